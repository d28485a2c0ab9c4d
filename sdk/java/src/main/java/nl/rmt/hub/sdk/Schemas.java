package nl.rmt.hub.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * The canonical schemas (the hub's {@code schemas/*.avsc}, one named type per file, bundled
 * in the jar), each made self-contained exactly as the hub does it (every named type defined
 * inline at its first use), so the text registered is the hub's and gets the hub's id.
 */
public final class Schemas {
    public static final String NAMESPACE = "nl.rmt.hub";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> PRIMITIVES =
            Set.of("null", "boolean", "int", "long", "float", "double", "bytes", "string");
    private static final Set<String> NAMED = Set.of("record", "error", "enum", "fixed");
    private static final Map<String, String> TEXTS = new ConcurrentHashMap<>();
    private static final Map<String, Schema> PARSED = new ConcurrentHashMap<>();

    private Schemas() {}

    /** The self-contained schema of a canonical type, e.g. {@code nl.rmt.hub.Referral}. */
    public static Schema of(String fullname) {
        return PARSED.computeIfAbsent(fullname, name -> new Schema.Parser().parse(text(name)));
    }

    /** Whether the SDK bundles the schema of {@code fullname}. */
    public static boolean known(String fullname) {
        return fullname.startsWith(NAMESPACE + ".")
                && Schemas.class.getResource(resource(fullname)) != null;
    }

    /** The schema's compact JSON text, as the hub registers it (same key order, no spaces). */
    public static String text(String fullname) {
        return TEXTS.computeIfAbsent(fullname, name -> {
            try {
                return JSON.writeValueAsString(new Expansion().named(load(name), NAMESPACE));
            } catch (IOException e) {
                throw new HubException("cannot write the schema of " + name, e);
            }
        });
    }

    private static String resource(String fullname) {
        String simple = fullname.substring(fullname.lastIndexOf('.') + 1);
        return "schemas/" + simple.replaceAll("(?<!^)(?=[A-Z])", "_").toLowerCase() + ".avsc";
    }

    private static ObjectNode load(String fullname) {
        try (InputStream in = Schemas.class.getResourceAsStream(resource(fullname))) {
            if (in == null) {
                throw new HubException("no canonical schema " + fullname);
            }
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException e) {
            throw new HubException("cannot read the schema of " + fullname, e);
        }
    }

    /** hub/serde/avro.py's self_contained_schema, step for step. */
    private static final class Expansion {
        private final Set<String> defined = new HashSet<>();

        ObjectNode named(ObjectNode definition, String namespace) {
            String full = fullname(definition, namespace);
            defined.add(full);
            String space = full.contains(".") ? full.substring(0, full.lastIndexOf('.')) : "";
            ObjectNode out = definition.deepCopy();
            String kind = definition.path("type").asText();
            if (kind.equals("record") || kind.equals("error")) {
                ArrayNode fields = JSON.createArrayNode();
                for (JsonNode field : definition.path("fields")) {
                    ObjectNode copy = ((ObjectNode) field).deepCopy();
                    copy.set("type", expand(field.get("type"), space));
                    fields.add(copy);
                }
                out.set("fields", fields);
            }
            return out;
        }

        JsonNode expand(JsonNode type, String namespace) {
            if (type.isTextual()) {
                String name = type.asText();
                if (PRIMITIVES.contains(name)) {
                    return type;
                }
                String full = name.contains(".") || namespace.isEmpty() ? name : namespace + "." + name;
                return defined.contains(full) ? new TextNode(full) : named(load(full), namespace);
            }
            if (type.isArray()) {
                ArrayNode branches = JSON.createArrayNode();
                type.forEach(branch -> branches.add(expand(branch, namespace)));
                return branches;
            }
            if (type.isObject()) {
                ObjectNode node = (ObjectNode) type;
                String kind = node.path("type").asText();
                if (NAMED.contains(kind)) {
                    return named(node, namespace);
                }
                ObjectNode copy = node.deepCopy();
                if (kind.equals("array")) {
                    copy.set("items", expand(node.get("items"), namespace));
                } else if (kind.equals("map")) {
                    copy.set("values", expand(node.get("values"), namespace));
                } else {
                    copy.set("type", expand(node.get("type"), namespace));
                }
                return copy;
            }
            return type;
        }

        private static String fullname(JsonNode definition, String namespace) {
            String name = definition.path("name").asText();
            if (name.contains(".")) {
                return name;
            }
            String space = definition.has("namespace") ? definition.get("namespace").asText() : namespace;
            return space.isEmpty() ? name : space + "." + name;
        }
    }
}
