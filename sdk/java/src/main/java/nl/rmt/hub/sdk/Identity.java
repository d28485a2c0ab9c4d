package nl.rmt.hub.sdk;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One key generation of one identity (a partner, or the hub): its Ed25519 signing key and
 * X25519 encryption key, with the key id, the fingerprint of both public keys (protocol
 * section 10). The private keys never show in {@link #toString()}.
 */
public final class Identity {
    static final String KEY_ID_LABEL = "rmt-hub/key-id/v1";

    private final String partnerId;
    private final String keyId;
    private final PrivateKey signingKey;
    private final PrivateKey encryptionKey;
    private final byte[] signingPublic;
    private final byte[] encryptionPublic;

    Identity(String partnerId, PrivateKey signingKey, byte[] signingPublic, PrivateKey encryptionKey) {
        this.partnerId = partnerId;
        this.signingKey = signingKey;
        this.encryptionKey = encryptionKey;
        this.signingPublic = signingPublic.clone();
        this.encryptionPublic = Crypto.x25519PublicOf(encryptionKey);
        this.keyId = keyId(this.signingPublic, this.encryptionPublic);
    }

    /** The identity of two raw private keys: a 32-byte Ed25519 seed and an X25519 scalar. */
    public static Identity of(String partnerId, byte[] ed25519Seed, byte[] x25519Private) {
        return new Identity(
                partnerId,
                Crypto.ed25519Private(ed25519Seed),
                Crypto.ed25519PublicOf(ed25519Seed),
                Crypto.x25519Private(x25519Private));
    }

    /** A new identity with fresh keys (hand its {@link #publicRecord} to the hub's operators). */
    public static Identity generate(String partnerId) {
        return of(partnerId, Crypto.random(32), Crypto.random(32));
    }

    /** {@code hex(SHA-256("rmt-hub/key-id/v1" | Ed25519 public | X25519 public)[:16])}. */
    public static String keyId(byte[] signingPublic, byte[] encryptionPublic) {
        byte[] digest = Crypto.sha256(
                KEY_ID_LABEL.getBytes(StandardCharsets.US_ASCII), signingPublic, encryptionPublic);
        return HexFormat.of().formatHex(Arrays.copyOf(digest, 16));
    }

    public String partnerId() {
        return partnerId;
    }

    public String keyId() {
        return keyId;
    }

    public byte[] signingPublicKey() {
        return signingPublic.clone();
    }

    public byte[] encryptionPublicKey() {
        return encryptionPublic.clone();
    }

    PrivateKey signingKey() {
        return signingKey;
    }

    PrivateKey encryptionKey() {
        return encryptionKey;
    }

    byte[] sign(byte[] data) {
        return Crypto.sign(signingKey, data);
    }

    /**
     * This key generation's public directory entry, to hand to the hub's operators
     * ({@code kind}: the partner kind, e.g. {@code GEMEENTE}; see {@link Directory#json}).
     */
    public KeyRecord publicRecord(java.time.Instant notBefore, java.time.Instant notAfter, String kind) {
        return new KeyRecord(partnerId, kind, null, keyId, signingPublic, encryptionPublic, notBefore, notAfter,
                "active", "partner");
    }

    @Override
    public String toString() {
        return "Identity[partnerId=" + partnerId + ", keyId=" + keyId + ", private=**********]";
    }
}
