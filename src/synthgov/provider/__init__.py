"""The provider profile: who we are (ContentProducer code), our signing key, our config file."""
