package nl.rmt.hub.sdk;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/**
 * Canonical records in the Confluent wire format (protocol section 2): byte 0, the schema id
 * as 4 bytes big-endian, the Avro binary encoding. Reading resolves the writer's schema to
 * the SDK's schema of the same type when it has one.
 */
public final class WireFormat {
    private final Registry registry;

    public WireFormat(Registry registry) {
        this.registry = registry;
    }

    /** Encodes with the canonical schema of the record's type (registered once). */
    public byte[] encode(GenericRecord record) {
        String type = record.getSchema().getFullName();
        return frame(registry.idOf(type), record, Schemas.of(type));
    }

    static byte[] frame(int schemaId, GenericRecord record, Schema schema) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.writeBytes(ByteBuffer.allocate(4).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            new GenericDatumWriter<GenericRecord>(schema, AvroJson.DATA).write(record, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new HubException(type(schema) + " does not encode: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    public GenericRecord decode(byte[] data) {
        if (data.length < 5 || data[0] != 0) {
            throw new HubException("DECODE_ERROR", "not in the Confluent wire format (magic byte 0, schema id)", null);
        }
        int id = ByteBuffer.wrap(data, 1, 4).getInt();
        return decode(registry.schema(id), data);
    }

    static GenericRecord decode(Schema writer, byte[] data) {
        Schema reader = Schemas.known(writer.getFullName()) ? Schemas.of(writer.getFullName()) : writer;
        try {
            return new GenericDatumReader<GenericRecord>(writer, reader, AvroJson.DATA)
                    .read(null, DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, null));
        } catch (IOException | RuntimeException e) {
            throw new HubException("DECODE_ERROR", type(writer) + " does not decode: " + e.getMessage(), e);
        }
    }

    private static String type(Schema schema) {
        return schema.getFullName();
    }
}
