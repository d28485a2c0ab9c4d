package nl.rmt.hub.sdk;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The primitives, all from the JDK 17 (SunEC, SunJCE): Ed25519, X25519, AES-256-GCM,
 * HMAC-SHA-256 and HKDF-SHA256 on top of it (RFC 5869; the JDK has no HKDF API before 24).
 * Raw 32-byte keys are wrapped in their fixed DER prefixes (RFC 8410).
 */
final class Crypto {
    static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] ED_SPKI = HEX.parseHex("302a300506032b6570032100");
    private static final byte[] X_SPKI = HEX.parseHex("302a300506032b656e032100");
    private static final byte[] ED_PKCS8 = HEX.parseHex("302e020100300506032b657004220420");
    private static final byte[] X_PKCS8 = HEX.parseHex("302e020100300506032b656e04220420");
    private static final byte[] X25519_BASE = basePoint();

    private Crypto() {}

    private static byte[] basePoint() {
        byte[] u = new byte[32];
        u[0] = 9;
        return u;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static byte[] random(int n) {
        byte[] out = new byte[n];
        RANDOM.nextBytes(out);
        return out;
    }

    static PrivateKey ed25519Private(byte[] seed) {
        return privateKey("Ed25519", concat(ED_PKCS8, check32(seed)));
    }

    static PrivateKey x25519Private(byte[] scalar) {
        return privateKey("X25519", concat(X_PKCS8, check32(scalar)));
    }

    static PrivateKey privateKey(String algorithm, byte[] pkcs8) {
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new HubException("not a PKCS#8 " + algorithm + " private key", e);
        }
    }

    static PublicKey ed25519Public(byte[] raw) {
        return publicKey("Ed25519", concat(ED_SPKI, check32(raw)));
    }

    static PublicKey x25519Public(byte[] raw) {
        return publicKey("X25519", concat(X_SPKI, check32(raw)));
    }

    private static PublicKey publicKey(String algorithm, byte[] spki) {
        try {
            return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException e) {
            throw new HubException("not a usable " + algorithm + " public key", e);
        }
    }

    private static byte[] check32(byte[] raw) {
        if (raw.length != 32) {
            throw new HubException("a raw key has 32 bytes, not " + raw.length);
        }
        return raw;
    }

    /** The raw 32 bytes of an Ed25519 or X25519 public key (the end of its X.509 form). */
    static byte[] raw(PublicKey key) {
        byte[] der = key.getEncoded();
        return Arrays.copyOfRange(der, der.length - 32, der.length);
    }

    /** The Ed25519 public key of a private key (the JDK 17 derives it only while generating). */
    static byte[] ed25519PublicOf(byte[] seed) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
            generator.initialize(NamedParameterSpec.ED25519, new FixedBytes(seed));
            return raw(generator.generateKeyPair().getPublic());
        } catch (GeneralSecurityException e) {
            throw new HubException("cannot derive the Ed25519 public key", e);
        }
    }

    /** The X25519 public key of a private key: X25519(private, 9). */
    static byte[] x25519PublicOf(PrivateKey key) {
        return x25519(key, X25519_BASE);
    }

    /** X25519(private, public); refuses an all-zero result. */
    static byte[] x25519(PrivateKey key, byte[] peerPublic) {
        byte[] shared;
        try {
            KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            agreement.init(key);
            agreement.doPhase(x25519Public(peerPublic), true);
            shared = agreement.generateSecret();
        } catch (GeneralSecurityException | IllegalStateException e) {
            throw new HubException("the X25519 exchange failed", e);
        }
        if (Arrays.equals(shared, new byte[shared.length])) {
            throw new HubException("the X25519 exchange gave an all-zero secret");
        }
        return shared;
    }

    static byte[] hmacSha256(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** HKDF-SHA256 (RFC 5869) for at most 32 bytes of output. */
    static byte[] hkdfSha256(byte[] ikm, byte[] salt, byte[] info, int length) {
        if (length > 32) {
            throw new IllegalArgumentException("one HMAC block only");
        }
        byte[] prk = hmacSha256(salt, ikm);
        byte[] block = hmacSha256(prk, concat(info, new byte[] {1}));
        return Arrays.copyOf(block, length);
    }

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (byte[] part : parts) {
                digest.update(part);
            }
            return digest.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** AES-256-GCM with a 12-byte nonce and a 16-byte tag appended. */
    static byte[] aesGcm(boolean encrypt, byte[] key, byte[] nonce, byte[] data, byte[] aad) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(
                    encrypt ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE,
                    new SecretKeySpec(key, "AES"),
                    new GCMParameterSpec(128, nonce));
            cipher.updateAAD(aad);
            return cipher.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new HubException("DECODE_ERROR", "AES-GCM: " + e.getMessage(), e);
        }
    }

    static byte[] sign(PrivateKey key, byte[] data) {
        try {
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key);
            signer.update(data);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new HubException("cannot sign", e);
        }
    }

    static boolean verify(byte[] publicKey, byte[] signature, byte[] data) {
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(ed25519Public(publicKey));
            verifier.update(data);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Hands out given bytes as "random" ones: the JDK 17's only way to a key pair of a seed. */
    private static final class FixedBytes extends SecureRandom {
        private final byte[] bytes;

        FixedBytes(byte[] bytes) {
            this.bytes = bytes.clone();
        }

        @Override
        public void nextBytes(byte[] out) {
            if (out.length != bytes.length) {
                throw new IllegalStateException("asked for " + out.length + " bytes");
            }
            System.arraycopy(bytes, 0, out, 0, out.length);
        }
    }
}
