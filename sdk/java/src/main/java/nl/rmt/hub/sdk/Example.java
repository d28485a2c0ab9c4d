package nl.rmt.hub.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;

/**
 * A small command-line partner, and the SDK's example:
 *
 * <pre>
 * java -cp 'target/*:target/lib/*' nl.rmt.hub.sdk.Example publish --partner uwv \
 *     --bootstrap localhost:9092 --registry http://localhost:8081 --keys .hub/keys &lt; records.jsonl
 * java -cp 'target/*:target/lib/*' nl.rmt.hub.sdk.Example read --partner gemeente-amsterdam \
 *     --bootstrap localhost:9092 --registry http://localhost:8081 --keys .hub/keys --count 3
 * </pre>
 *
 * {@code publish} reads one JSON object per line, {@code {"type": "nl.rmt.hub.Referral",
 * "record": {...}}} (the record as plain JSON), stamps and publishes each, and prints
 * {@code {"event_id", "type", "schema_id"}} per record. {@code read} prints one JSON line per
 * inbox message ({@code kind}, {@code type}, {@code event_id}, {@code subject}, {@code record}
 * or {@code error}) until {@code --count} messages or {@code --timeout} seconds, committing
 * what it printed. Options: {@code --prefix} (topic prefix, default rmt), no {@code --keys}:
 * record security off.
 */
public final class Example {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Example() {}

    public static void main(String[] args) throws IOException {
        if (args.length == 0 || !Set.of("publish", "read").contains(args[0])) {
            System.err.println("usage: Example publish|read --partner ID --bootstrap HOST:PORT --registry URL "
                    + "[--keys DIR] [--prefix rmt] [--count N] [--timeout S]");
            System.exit(2);
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        PartnerClient.Config config = PartnerClient.Config.of(
                        opts.get("partner"), opts.get("bootstrap"), opts.get("registry"))
                .withTopicPrefix(opts.getOrDefault("prefix", "rmt"));
        if (opts.containsKey("keys")) {
            config = config.withKeys(Path.of(opts.get("keys")));
        }
        if (opts.containsKey("group")) {
            config = config.withGroupId(opts.get("group"));
        }
        try (PartnerClient client = new PartnerClient(config)) {
            if (args[0].equals("publish")) {
                publish(client);
            } else {
                read(client, Integer.parseInt(opts.getOrDefault("count", "1")),
                        Duration.ofSeconds(Long.parseLong(opts.getOrDefault("timeout", "60"))));
            }
        }
    }

    private static void publish(PartnerClient client) throws IOException {
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<String> out = new ArrayList<>();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode item = JSON.readTree(line);
            String type = item.path("type").asText();
            GenericRecord record = client.stamp(AvroJson.record(item.path("record"), Schemas.of(type)));
            client.publish(record);
            ObjectNode printed = JSON.createObjectNode()
                    .put("event_id", record.get("event_id").toString())
                    .put("type", type)
                    .put("schema_id", client.registry().idOf(type));
            out.add(printed.toString());
        }
        client.flush();
        out.forEach(System.out::println);
    }

    private static void read(PartnerClient client, int count, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        int seen = 0;
        while (seen < count && Instant.now().isBefore(deadline)) {
            List<InboxMessage> messages = client.poll(Duration.ofMillis(500));
            for (InboxMessage m : messages) {
                ObjectNode line = JSON.createObjectNode()
                        .put("kind", m.kind().name())
                        .put("type", m.type())
                        .put("event_id", m.eventId())
                        .put("subject", m.subject());
                try {
                    line.set("record", m.record() == null ? null
                            : JSON.readTree(AvroJson.json(m.record(), false, Set.of())));
                } catch (IOException e) {
                    throw new HubException("cannot print a record", e);
                }
                m.rejection().ifPresent(r -> line.put("reason", r.reason()).put("rejected_event_id", r.rejectedEventId()));
                m.erasure().ifPresent(e -> line.put("still_covered", e.stillCovered()));
                if (m.error() != null) {
                    line.put("error", m.error().getMessage());
                }
                System.out.println(line);
                System.out.flush();
                seen++;
            }
            client.commit(messages);
        }
    }
}
