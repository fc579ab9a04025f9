"""The K=7 convolutional code and its list Viterbi decoder."""

import numpy as np

from synthgov.watermarking.ecc import ConvolutionalCode

CODE = ConvolutionalCode()


def test_encode_known_vector_and_length():
    assert CODE.coded_length(96) == 204
    # an impulse gives the generators' taps, newest bit first: 171 octal = 1111001, 133 = 1011011
    out = CODE.encode([1])
    assert out[0::2].tolist() == [1, 0, 0, 1, 1, 1, 1] and out[1::2].tolist() == [1, 1, 0, 1, 1, 0, 1]


def test_corrects_noise_and_lists_distinct_words_best_first():
    rng = np.random.default_rng(3)
    info = [int(b) for b in rng.integers(0, 2, 96)]
    symbols = 1.0 - 2.0 * CODE.encode(info)
    noisy = symbols + rng.normal(0, 0.6, symbols.shape)  # about 5 % raw symbol errors
    assert np.mean(np.sign(noisy) != symbols) > 0.01
    assert CODE.decode_list(noisy, 96)[0] == info
    words = CODE.decode_list(noisy, 96, 8)
    assert words[0] == info and len(words) == 8 and len({tuple(w) for w in words}) == 8


def test_list_decoding_recovers_what_the_best_path_misses():
    """At a symbol SNR where the best path fails now and then, the right word is often in the list."""
    rng = np.random.default_rng(11)
    best_misses = listed = 0
    for _ in range(60):
        info = [int(b) for b in rng.integers(0, 2, 96)]
        noisy = 1.0 - 2.0 * CODE.encode(info) + rng.normal(0, 1.05, 204)
        words = CODE.decode_list(noisy, 96, 16)
        if words[0] != info:
            best_misses += 1
            listed += info in words
    assert best_misses > 0 and listed > 0
