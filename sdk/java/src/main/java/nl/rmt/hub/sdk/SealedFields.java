package nl.rmt.hub.sdk;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Sealed special-category fields (protocol section 8):
 * {@code "rmt-sf1." + base64url(key id 16 | nonce 12 | AES-256-GCM(subject key, nonce, JSON, aad))}.
 */
public final class SealedFields {
    public static final String PREFIX = "rmt-sf1.";
    private static final String LABEL = "rmt-hub/sealed-field/v1";

    private SealedFields() {}

    static byte[] aad(String subject, String field, byte[] keyId) {
        return Canonical.label(LABEL).item(subject).item(field).item(keyId).bytes();
    }

    /** The token of one field's JSON value (compact, keys sorted), with the given nonce. */
    public static String seal(SubjectKey key, String field, String json, byte[] nonce) {
        byte[] keyId = HexFormat.of().parseHex(key.keyId());
        byte[] sealed = Crypto.aesGcm(true, key.secret(), nonce, json.getBytes(StandardCharsets.UTF_8),
                aad(key.subject(), field, keyId));
        return PREFIX + Base64.getUrlEncoder().encodeToString(Crypto.concat(keyId, nonce, sealed));
    }

    /** The id (hex) of the subject key a token needs. */
    public static String keyIdOf(String token) {
        return HexFormat.of().formatHex(Arrays.copyOf(raw(token), 16));
    }

    /** The JSON value in a token, opened with the subject's key. */
    public static String open(SubjectKey key, String field, String token) {
        byte[] raw = raw(token);
        byte[] keyId = Arrays.copyOf(raw, 16);
        if (!HexFormat.of().formatHex(keyId).equals(key.keyId())) {
            throw new HubException("field " + field + " is sealed with key " + HexFormat.of().formatHex(keyId));
        }
        byte[] plain = Crypto.aesGcm(false, key.secret(), Arrays.copyOfRange(raw, 16, 28),
                Arrays.copyOfRange(raw, 28, raw.length), aad(key.subject(), field, keyId));
        return new String(plain, StandardCharsets.UTF_8);
    }

    private static byte[] raw(String token) {
        if (!token.startsWith(PREFIX)) {
            throw new HubException("not a sealed-field token");
        }
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(token.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new HubException("the token is not base64url", e);
        }
        if (raw.length < 16 + 12 + 16) {
            throw new HubException("the token is too short");
        }
        return raw;
    }
}
