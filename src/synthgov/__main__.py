from synthgov.cli.main import main

main()
