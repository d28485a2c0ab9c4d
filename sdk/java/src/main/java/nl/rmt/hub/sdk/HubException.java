package nl.rmt.hub.sdk;

/**
 * The one exception of the SDK: a record that does not verify or decrypt, a key or schema
 * that cannot be used, a registry or broker that does not answer. {@link #reason()} is the
 * hub's dead-letter reason where the protocol names one ({@code UNSIGNED},
 * {@code SIGNATURE_INVALID}, {@code KEY_UNKNOWN}, {@code KEY_REVOKED}, {@code SIGNER_MISMATCH},
 * {@code KEY_EXPIRED}, {@code DECODE_ERROR}), else {@code null}.
 */
public class HubException extends RuntimeException {
    private final String reason;

    public HubException(String message) {
        this(null, message, null);
    }

    public HubException(String message, Throwable cause) {
        this(null, message, cause);
    }

    public HubException(String reason, String message, Throwable cause) {
        super(reason == null ? message : reason + ": " + message, cause);
        this.reason = reason;
    }

    /** The dead-letter reason symbol, or null. */
    public String reason() {
        return reason;
    }
}
