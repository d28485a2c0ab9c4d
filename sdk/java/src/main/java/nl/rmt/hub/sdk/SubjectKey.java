package nl.rmt.hub.sdk;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.apache.kafka.common.header.Header;

/**
 * A subject's field key (protocol section 8): 32 bytes with a 16-byte id (hex here), the
 * hub's, one per subject; it opens that subject's sealed special-category fields. The secret
 * never shows in {@link #toString()}.
 */
public record SubjectKey(String subject, String keyId, byte[] secret) {
    static final String GRANT_TOPIC = "rmt-hub/subject-key-grant/v1";

    /** Where a reader gets subject keys from (a cache of grants; empty when it has none). */
    @FunctionalInterface
    public interface Provider {
        java.util.Optional<SubjectKey> find(String subject, String keyId);
    }

    /**
     * The key in a grant: the envelope of section 5 with topic {@code rmt-hub/subject-key-grant/v1},
     * record key = the subject, event id = the key id, plaintext = key id (16) | key (32).
     */
    public static SubjectKey fromGrant(
            RecordSecurity security, String subject, String keyId, byte[] blob, Iterable<Header> headers) {
        byte[] plain = security.decryptor().decrypt(
                GRANT_TOPIC, subject.getBytes(StandardCharsets.UTF_8), blob, headers, keyId);
        if (plain.length != 48 || !HexFormat.of().formatHex(plain, 0, 16).equals(keyId)) {
            throw new HubException("the grant of key " + keyId + " is malformed");
        }
        return new SubjectKey(subject, keyId, Arrays.copyOfRange(plain, 16, 48));
    }

    @Override
    public String toString() {
        return "SubjectKey[subject=" + subject + ", keyId=" + keyId + ", secret=**********]";
    }
}
