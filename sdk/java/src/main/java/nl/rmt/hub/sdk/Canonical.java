package nl.rmt.hub.sdk;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The protocol's unambiguous byte strings (section 4): {@code item(x)} = 4-byte big-endian
 * length and the bytes, {@code optional(null)} = {@code ff ff ff ff}, fixed-width big-endian
 * integers, each use starting with its domain label as an item.
 */
final class Canonical {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private Canonical() {}

    static Canonical label(String label) {
        return new Canonical().item(label);
    }

    Canonical item(byte[] data) {
        u32(data.length);
        out.writeBytes(data);
        return this;
    }

    Canonical item(String text) {
        return item(text.getBytes(StandardCharsets.UTF_8));
    }

    Canonical optional(byte[] data) {
        return data == null ? u32(0xFFFFFFFFL) : item(data);
    }

    Canonical u32(long value) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            out.write((int) (value >>> shift));
        }
        return this;
    }

    Canonical u64(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("negative value in the canonical encoding");
        }
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (value >>> shift));
        }
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
