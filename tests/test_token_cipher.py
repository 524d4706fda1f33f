import pytest
from cryptography.fernet import Fernet

from worker.token_cipher import TokenCipher, TokenDecryptionError, generate_key

TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def test_round_trip():
    cipher = TokenCipher([generate_key()])
    ciphertext = cipher.encrypt(TOKEN)
    assert cipher.decrypt(ciphertext) == TOKEN


def test_ciphertext_never_contains_the_plaintext():
    cipher = TokenCipher([generate_key()])
    ciphertext = cipher.encrypt(TOKEN)
    assert TOKEN not in ciphertext
    assert "0123456789abcdef" not in ciphertext
    # Fernet uses a random IV: the same token encrypts differently each time.
    assert cipher.encrypt(TOKEN) != ciphertext


def test_generated_keys_are_fernet_keys_and_differ():
    first, second = generate_key(), generate_key()
    assert first != second
    Fernet(first)  # raises if malformed


def test_wrong_key_raises_a_clear_error_without_leaking_anything():
    ciphertext = TokenCipher([generate_key()]).encrypt(TOKEN)
    other = TokenCipher([generate_key()])
    with pytest.raises(TokenDecryptionError, match="TOKEN_ENCRYPTION_KEY") as excinfo:
        other.decrypt(ciphertext)
    assert TOKEN not in str(excinfo.value)


def test_garbage_ciphertext_raises_the_same_error():
    with pytest.raises(TokenDecryptionError):
        TokenCipher([generate_key()]).decrypt("not a fernet token é")


def test_rotation_keeps_old_ciphertext_readable_and_rotate_moves_it_to_the_new_key():
    old_key, new_key = generate_key(), generate_key()
    old_ciphertext = TokenCipher([old_key]).encrypt(TOKEN)

    rotated_cipher = TokenCipher.from_setting(f"{new_key},{old_key}")
    assert rotated_cipher.decrypt(old_ciphertext) == TOKEN

    new_ciphertext = rotated_cipher.rotate(old_ciphertext)
    assert new_ciphertext != old_ciphertext
    # Readable with the new key alone: the old key can now be dropped.
    assert TokenCipher([new_key]).decrypt(new_ciphertext) == TOKEN
    with pytest.raises(TokenDecryptionError):
        TokenCipher([old_key]).decrypt(new_ciphertext)


def test_new_ciphertext_uses_the_first_key():
    old_key, new_key = generate_key(), generate_key()
    ciphertext = TokenCipher([new_key, old_key]).encrypt(TOKEN)
    assert TokenCipher([new_key]).decrypt(ciphertext) == TOKEN
    with pytest.raises(TokenDecryptionError):
        TokenCipher([old_key]).decrypt(ciphertext)


def test_from_setting_ignores_blanks_and_spaces():
    key = generate_key()
    cipher = TokenCipher.from_setting(f" {key} , ,")
    assert cipher.decrypt(TokenCipher([key]).encrypt(TOKEN)) == TOKEN


@pytest.mark.parametrize("setting", ["", " , ", None])
def test_from_setting_requires_a_key(setting):
    with pytest.raises(ValueError, match="at least one"):
        TokenCipher.from_setting(setting)


def test_invalid_key_is_reported_by_position_not_value():
    good = generate_key()
    with pytest.raises(ValueError, match="#2") as excinfo:
        TokenCipher.from_setting(f"{good},not-a-real-key")
    assert "not-a-real-key" not in str(excinfo.value)
