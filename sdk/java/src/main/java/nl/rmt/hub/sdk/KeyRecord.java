package nl.rmt.hub.sdk;

import java.time.Instant;

/**
 * One key generation in the public directory (protocol section 10): whose it is, both
 * public keys (raw 32 bytes), when it is valid, and its status ({@code active},
 * {@code retired}, {@code revoked}) and role ({@code partner}, {@code hub}, ...).
 */
public record KeyRecord(
        String partnerId,
        String kind,
        String region,
        String keyId,
        byte[] signingPublicKey,
        byte[] encryptionPublicKey,
        Instant notBefore,
        Instant notAfter,
        String status,
        String role) {

    public KeyRecord {
        if (!Identity.keyId(signingPublicKey, encryptionPublicKey).equals(keyId)) {
            throw new HubException("key " + keyId + " is not the fingerprint of its public keys");
        }
        if (!notAfter.isAfter(notBefore)) {
            throw new HubException("key " + keyId + ": not_after must be later than not_before");
        }
    }

    public boolean revoked() {
        return "revoked".equals(status);
    }

    /** Active, not revoked, and {@code at} within [not_before, not_after]. */
    public boolean currentAt(Instant at) {
        return "active".equals(status) && !at.isBefore(notBefore) && !at.isAfter(notAfter);
    }
}
