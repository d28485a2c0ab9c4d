package nl.rmt.hub.sdk;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** Record headers as an ordered list of Kafka {@link Header}s, and the few operations on them. */
final class HeaderList {
    private HeaderList() {}

    static Header text(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }

    static List<Header> copy(Iterable<Header> headers) {
        List<Header> out = new ArrayList<>();
        if (headers != null) {
            headers.forEach(h -> out.add(new RecordHeader(h.key(), h.value() == null ? new byte[0] : h.value())));
        }
        return out;
    }

    /** The value of the one header called {@code name}, or null; a repeat is refused. */
    static byte[] value(Iterable<Header> headers, String name) {
        byte[] found = null;
        boolean seen = false;
        for (Header h : headers) {
            if (h.key().equals(name)) {
                if (seen) {
                    throw new HubException("SIGNATURE_INVALID", "ambiguous record: header '" + name + "' repeated", null);
                }
                seen = true;
                found = h.value() == null ? new byte[0] : h.value();
            }
        }
        return found;
    }

    static String string(Iterable<Header> headers, String name) {
        byte[] raw = value(headers, name);
        return raw == null ? null : new String(raw, StandardCharsets.UTF_8);
    }

    /** {@code headers} without any header named in {@code additions}, then {@code additions}. */
    static List<Header> replace(Iterable<Header> headers, List<Header> additions) {
        Set<String> names = new HashSet<>();
        additions.forEach(h -> names.add(h.key()));
        List<Header> out = new ArrayList<>();
        for (Header h : copy(headers)) {
            if (!names.contains(h.key())) {
                out.add(h);
            }
        }
        out.addAll(additions);
        return out;
    }
}
