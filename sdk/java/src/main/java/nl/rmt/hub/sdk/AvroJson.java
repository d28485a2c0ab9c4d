package nl.rmt.hub.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Avro datums and the hub's JSON: plain JSON as the Python implementation dumps records
 * (dates {@code 2021-03-02}, times {@code 2021-03-02T09:30:00Z}, enums by symbol, unions
 * untagged) into generic records, and generic records back into exactly the bytes of
 * pydantic's {@code model_dump_json} (the content of the deterministic event ids).
 */
public final class AvroJson {
    /** Generic data with dates as {@link LocalDate} and timestamps as {@link Instant}. */
    public static final GenericData DATA = new GenericData();

    static {
        DATA.addLogicalTypeConversion(new TimeConversions.DateConversion());
        DATA.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    }

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");

    private AvroJson() {}

    // --- JSON -> Avro ---------------------------------------------------------------------

    /** A generic record of {@code schema} from its plain JSON. */
    public static GenericRecord record(JsonNode json, Schema schema) {
        return (GenericRecord) datum(json, schema);
    }

    /** The datum of {@code schema} that plain JSON stands for. */
    public static Object datum(JsonNode json, Schema schema) {
        switch (schema.getType()) {
            case NULL:
                return null;
            case UNION:
                for (Schema branch : schema.getTypes()) {
                    if (fits(json, branch)) {
                        return datum(json, branch);
                    }
                }
                throw new HubException("no branch of " + schema + " takes " + json);
            case RECORD:
                GenericData.Record out = new GenericData.Record(schema);
                for (Schema.Field f : schema.getFields()) {
                    JsonNode value = json.get(f.name());
                    out.put(f.pos(), value == null ? DATA.getDefaultValue(f) : datum(value, f.schema()));
                }
                return out;
            case ENUM:
                if (!schema.hasEnumSymbol(json.asText())) {
                    throw new HubException(json.asText() + " is no symbol of " + schema.getFullName());
                }
                return DATA.createEnum(json.asText(), schema);
            case ARRAY:
                List<Object> items = new ArrayList<>();
                json.forEach(item -> items.add(datum(item, schema.getElementType())));
                return new GenericData.Array<>(schema, items);
            case MAP:
                Map<String, Object> map = new LinkedHashMap<>();
                json.fields().forEachRemaining(e -> map.put(e.getKey(), datum(e.getValue(), schema.getValueType())));
                return map;
            case STRING:
                return json.asText();
            case BOOLEAN:
                return json.asBoolean();
            case INT:
                if (schema.getLogicalType() instanceof LogicalTypes.Date) {
                    return json.isTextual() ? LocalDate.parse(json.asText()) : LocalDate.ofEpochDay(json.asInt());
                }
                return json.asInt();
            case LONG:
                if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
                    return json.isTextual() ? OffsetDateTime.parse(json.asText()).toInstant() : Instant.ofEpochMilli(json.asLong());
                }
                return json.asLong();
            case FLOAT:
                return (float) json.asDouble();
            case DOUBLE:
                return json.asDouble();
            default:
                throw new HubException("JSON of Avro " + schema.getType() + " is not supported");
        }
    }

    private static boolean fits(JsonNode json, Schema branch) {
        switch (branch.getType()) {
            case NULL:
                return json.isNull();
            case STRING:
                return json.isTextual();
            case ENUM:
                return json.isTextual() && branch.hasEnumSymbol(json.asText());
            case INT:
            case LONG:
                return json.isIntegralNumber() || (json.isTextual() && branch.getLogicalType() != null);
            case FLOAT:
            case DOUBLE:
                return json.isNumber();
            case BOOLEAN:
                return json.isBoolean();
            case RECORD:
            case MAP:
                return json.isObject();
            case ARRAY:
                return json.isArray();
            default:
                return false;
        }
    }

    // --- Avro -> JSON ---------------------------------------------------------------------

    /**
     * pydantic's {@code model_dump_json(exclude=excluded, exclude_defaults=excludeDefaults)} of
     * a record: fields in schema order, compact, non-ASCII as is.
     */
    public static String json(GenericRecord record, boolean excludeDefaults, Set<String> excluded) {
        StringBuilder out = new StringBuilder();
        writeRecord(out, record, excludeDefaults, excluded);
        return out.toString();
    }

    private static void writeRecord(StringBuilder out, GenericRecord record, boolean excludeDefaults, Set<String> excluded) {
        out.append('{');
        boolean first = true;
        for (Schema.Field f : record.getSchema().getFields()) {
            if (excluded.contains(f.name())) {
                continue;
            }
            Object value = record.get(f.pos());
            if (excludeDefaults && f.hasDefaultValue()) {
                String written = write(value, f.schema(), true);
                if (written.equals(write(DATA.getDefaultValue(f), f.schema(), true))) {
                    continue;
                }
            }
            if (!first) {
                out.append(',');
            }
            first = false;
            quote(out, f.name());
            out.append(':');
            write(out, value, f.schema(), excludeDefaults);
        }
        out.append('}');
    }

    private static String write(Object value, Schema schema, boolean excludeDefaults) {
        StringBuilder out = new StringBuilder();
        write(out, value, schema, excludeDefaults);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, Schema schema, boolean excludeDefaults) {
        if (value == null) {
            out.append("null");
            return;
        }
        switch (schema.getType()) {
            case UNION:
                write(out, value, schema.getTypes().get(DATA.resolveUnion(schema, value)), excludeDefaults);
                return;
            case RECORD:
                writeRecord(out, (GenericRecord) value, excludeDefaults, Set.of());
                return;
            case ARRAY:
                out.append('[');
                boolean first = true;
                for (Object item : (Collection<?>) value) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    write(out, item, schema.getElementType(), excludeDefaults);
                }
                out.append(']');
                return;
            case MAP:
                out.append('{');
                boolean firstEntry = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    if (!firstEntry) {
                        out.append(',');
                    }
                    firstEntry = false;
                    quote(out, e.getKey().toString());
                    out.append(':');
                    write(out, e.getValue(), schema.getValueType(), excludeDefaults);
                }
                out.append('}');
                return;
            case INT:
                if (schema.getLogicalType() instanceof LogicalTypes.Date) {
                    LocalDate date = value instanceof LocalDate d ? d : LocalDate.ofEpochDay(((Number) value).longValue());
                    quote(out, date.toString());
                    return;
                }
                out.append(((Number) value).longValue());
                return;
            case LONG:
                if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
                    Instant at = value instanceof Instant i ? i : Instant.ofEpochMilli(((Number) value).longValue());
                    quote(out, time(at));
                    return;
                }
                out.append(((Number) value).longValue());
                return;
            case BOOLEAN:
                out.append(value);
                return;
            case FLOAT:
            case DOUBLE:
                out.append(value);
                return;
            case BYTES:
                ByteBuffer buffer = ((ByteBuffer) value).duplicate();
                byte[] raw = new byte[buffer.remaining()];
                buffer.get(raw);
                quote(out, new String(raw, java.nio.charset.StandardCharsets.UTF_8));
                return;
            default: // STRING, ENUM, FIXED
                quote(out, value.toString());
        }
    }

    /** RFC 3339 as Python writes an aware UTC datetime: {@code Z}, microseconds only when not zero. */
    static String time(Instant at) {
        var utc = at.atOffset(ZoneOffset.UTC);
        int micros = utc.getNano() / 1000;
        return utc.format(SECONDS) + (micros == 0 ? "" : String.format(".%06d", micros)) + "Z";
    }

    /** A JSON string as serde_json (pydantic) writes it. */
    private static void quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
