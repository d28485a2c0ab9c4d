package nl.rmt.hub.sdk;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Client pseudonyms (protocol section 9): {@code "psn-"} + the first 32 hex digits of
 * HMAC-SHA-256(the hub-wide pseudonym key, the BSN as 9 ASCII digits).
 */
public final class Pseudonyms {
    private Pseudonyms() {}

    public static String of(byte[] key, String bsn) {
        String digits = bsn.replace(" ", "").replace(".", "");
        if (digits.matches("[0-9]{8}")) {
            digits = "0" + digits;
        }
        if (!digits.matches("[0-9]{9}") || !elevenTest(digits)) {
            throw new IllegalArgumentException("not a valid BSN (nine digits passing the eleven-test)");
        }
        byte[] mac = Crypto.hmacSha256(key, digits.getBytes(StandardCharsets.US_ASCII));
        return "psn-" + HexFormat.of().formatHex(mac).substring(0, 32);
    }

    private static boolean elevenTest(String digits) {
        int sum = 0;
        for (int i = 0; i < 8; i++) {
            sum += (9 - i) * (digits.charAt(i) - '0');
        }
        sum -= digits.charAt(8) - '0';
        return sum % 11 == 0 && !digits.equals("000000000");
    }
}
