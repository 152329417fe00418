package clickstream.bulkload;

import com.datastax.driver.core.PlainTextAuthProvider;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.InputStreamReader;
import java.io.Reader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.cassandra.config.DatabaseDescriptor;
import org.apache.cassandra.config.EncryptionOptions;
import org.apache.cassandra.io.sstable.CQLSSTableWriter;
import org.apache.cassandra.io.sstable.SSTableLoader;
import org.apache.cassandra.io.util.File;
import org.apache.cassandra.locator.InetAddressAndPort;
import org.apache.cassandra.streaming.StreamState;
import org.apache.cassandra.streaming.StreamingChannel;
import org.apache.cassandra.tools.BulkLoadConnectionFactory;
import org.apache.cassandra.utils.NativeSSTableLoaderClient;
import org.apache.cassandra.utils.OutputHandler;

/**
 * One Spark task's rows of one table, written as SSTables and streamed to every replica.
 *
 * <p>Spark pipes the task's rows in, one per line (jobs/bulk.py): tab-separated fields in the INSERT's order
 * when BULKLOAD_FORMAT=tsv (scalar columns only), else a JSON object; every parameter comes from the
 * environment, so no password is on a command line. When every line is written and every replica has
 * acknowledged every SSTable, the tool prints one JSON line, {"rows": n, "sstables": k, "attempts": a}, and
 * exits 0; otherwise it exits non-zero and Spark retries the task. A retry writes the same cells with the
 * same timestamp (BULKLOAD_INSERT carries USING TIMESTAMP), so replays are idempotent.
 *
 * <p>Environment: BULKLOAD_SCHEMA (the table's CREATE statement), BULKLOAD_INSERT, BULKLOAD_COLUMNS
 * (name:type,... in the INSERT's order; types: text, int, bigint, double, map&lt;text, bigint&gt;,
 * frozen&lt;list&lt;text&gt;&gt;), BULKLOAD_KEYSPACE, BULKLOAD_TABLE, BULKLOAD_DIR (scratch; optional), BULKLOAD_BUFFER_MIB,
 * BULKLOAD_ATTEMPTS, BULKLOAD_RETRY_SECONDS, CASSANDRA_HOSTS (comma-separated), CASSANDRA_PORT,
 * CASSANDRA_STORAGE_PORT, CASSANDRA_USERNAME, CASSANDRA_PASSWORD.
 */
public final class BulkLoad {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        // stdout carries the one result line; everything Cassandra prints goes to stderr (Spark's task log).
        PrintStream result = System.out;
        System.setOut(System.err);
        int status = 1;
        try {
            result.println(run());
            result.flush();
            status = 0;
        } catch (Throwable e) {
            e.printStackTrace(System.err);
        }
        // Streaming leaves non-daemon threads behind.
        System.exit(status);
    }

    private static String run() throws Exception {
        DatabaseDescriptor.clientInitialization();
        String keyspace = env("BULKLOAD_KEYSPACE"), table = env("BULKLOAD_TABLE");
        Path scratch = Files.createTempDirectory(Path.of(scratchRoot()), "bulkload-");
        // SSTableLoader takes the keyspace and table from the last two folder names.
        Path dir = Files.createDirectories(scratch.resolve(keyspace).resolve(table));
        try {
            long started = System.nanoTime();
            long rows = write(dir);
            long written = System.nanoTime();
            int sstables = countSSTables(dir);
            int attempts = sstables == 0 ? 0 : stream(dir);
            double writeSeconds = (written - started) / 1e9, streamSeconds = (System.nanoTime() - written) / 1e9;
            return String.format(java.util.Locale.ROOT,
                    "{\"rows\": %d, \"sstables\": %d, \"attempts\": %d, \"write_s\": %.3f, \"stream_s\": %.3f}",
                    rows, sstables, attempts, writeSeconds, streamSeconds);
        } finally {
            deleteTree(scratch);
        }
    }

    /** Every line of stdin as a row; returns how many. */
    private static long write(Path dir) throws Exception {
        List<String[]> columns = new ArrayList<>();
        for (String spec : env("BULKLOAD_COLUMNS").split(",(?![^<]*>)")) {
            int colon = spec.indexOf(':');
            columns.add(new String[]{spec.substring(0, colon).trim(), spec.substring(colon + 1).trim()});
        }
        long rows = 0;
        try (CQLSSTableWriter writer = CQLSSTableWriter.builder()
                .inDirectory(new File(dir.toFile()))
                .forTable(env("BULKLOAD_SCHEMA"))
                .using(env("BULKLOAD_INSERT"))
                .withBufferSizeInMiB(Integer.parseInt(env("BULKLOAD_BUFFER_MIB")))
                .build();
             Reader in = new InputStreamReader(System.in, StandardCharsets.UTF_8)) {
            boolean tsv = "tsv".equals(System.getenv("BULKLOAD_FORMAT"));
            Lines lines = new Lines(in);
            for (String line; (line = lines.next()) != null; ) {
                List<Object> values = new ArrayList<>(columns.size());
                if (tsv) {
                    String[] fields = line.split("\t", -1);
                    if (fields.length != columns.size()) {
                        throw new IllegalArgumentException("line " + (rows + 1) + ": " + fields.length
                                + " fields, the table has " + columns.size() + " columns");
                    }
                    for (int i = 0; i < fields.length; i++) {
                        values.add(scalar(fields[i], columns.get(i)[1]));
                    }
                } else {
                    JsonNode row = JSON.readTree(line);
                    for (String[] column : columns) {
                        values.add(value(row.get(column[0]), column[1]));
                    }
                }
                writer.addRow(values);
                rows++;
            }
        }
        return rows;
    }

    /** Lines ended by '\n' alone (readLine would also end one at a '\r', which a title may hold), read in
     *  blocks: a read call per character would take a lock per character. */
    private static final class Lines {
        private final Reader in;
        private final char[] block = new char[1 << 16];
        private int next, end;

        Lines(Reader in) {
            this.in = in;
        }

        String next() throws java.io.IOException {
            StringBuilder line = null;
            while (true) {
                if (next == end) {
                    end = in.read(block, 0, block.length);
                    next = 0;
                    if (end <= 0) {
                        end = 0;
                        return line == null || line.length() == 0 ? null : line.toString();
                    }
                }
                int start = next;
                while (next < end && block[next] != '\n') {
                    next++;
                }
                if (next < end) {
                    String tail = new String(block, start, next - start);
                    next++;
                    return line == null ? tail : line.append(tail).toString();
                }
                line = (line == null ? new StringBuilder(256) : line).append(block, start, end - start);
            }
        }
    }

    /** A TSV field, or a JSON value's text: text as it is (the rows' rules keep tabs and newlines out of
     *  titles), numbers parsed, a map of source keys as key:value,key:value (jobs/bulk.py as_lines; source
     *  keys hold neither ':' nor ','). jobs/bulk.py sends a table with any other type as JSON. */
    private static Object scalar(String field, String type) {
        switch (type) {
            case "text": return field;
            case "map<text, bigint>": return counts(field);
            case "int": return Integer.parseInt(field);
            case "bigint": return Long.parseLong(field);
            case "double": return Double.parseDouble(field);
            default: throw new IllegalArgumentException("BULKLOAD_COLUMNS: unsupported type " + type);
        }
    }

    private static Map<String, Long> counts(String field) {
        Map<String, Long> map = new LinkedHashMap<>();
        if (!field.isEmpty()) {
            for (String entry : field.split(",")) {
                int colon = entry.lastIndexOf(':');
                map.put(entry.substring(0, colon), Long.parseLong(entry.substring(colon + 1)));
            }
        }
        return map;
    }

    private static Object value(JsonNode node, String type) {
        if (node == null || node.isNull()) {
            return null;
        }
        switch (type) {
            case "map<text, bigint>": {
                Map<String, Long> map = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    map.put(e.getKey(), e.getValue().asLong());
                }
                return map;
            }
            case "frozen<list<text>>": {
                List<String> list = new ArrayList<>();
                node.forEach(item -> list.add(item.asText()));
                return list;
            }
            default: return scalar(node.asText(), type);
        }
    }

    /** Stream every SSTable in `dir` to every replica, again and again until none fails; returns the attempts. */
    private static int stream(Path dir) throws Exception {
        int attempts = Integer.parseInt(env("BULKLOAD_ATTEMPTS"));
        long pause = Long.parseLong(env("BULKLOAD_RETRY_SECONDS")) * 1000;
        for (int attempt = 1; ; attempt++) {
            Set<InetAddressAndPort> failed;
            try {
                SSTableLoader loader = new SSTableLoader(new File(dir.toFile()), client(), new Stderr());
                StreamState state = loader.stream().get();
                failed = loader.getFailedHosts();
                if (!state.hasFailedSession() && !state.hasAbortedSession() && failed.isEmpty()) {
                    return attempt;
                }
                System.err.printf("bulkload attempt %d of %d: streaming failed to %s%n", attempt, attempts, failed);
            } catch (Exception e) {
                System.err.printf("bulkload attempt %d of %d failed: %s%n", attempt, attempts, e);
            }
            if (attempt >= attempts) {
                throw new IllegalStateException("bulkload: some replicas did not take the SSTables after "
                        + attempts + " attempts");
            }
            Thread.sleep(pause);
        }
    }

    private static NativeSSTableLoaderClient client() {
        List<InetSocketAddress> hosts = new ArrayList<>();
        int port = Integer.parseInt(env("CASSANDRA_PORT"));
        for (String host : env("CASSANDRA_HOSTS").split(",")) {
            hosts.add(new InetSocketAddress(host.trim(), port));
        }
        int storagePort = Integer.parseInt(env("CASSANDRA_STORAGE_PORT"));
        String user = System.getenv("CASSANDRA_USERNAME");
        var auth = user == null || user.isEmpty() ? null
                : new PlainTextAuthProvider(user, env("CASSANDRA_PASSWORD"));
        return new NativeSSTableLoaderClient(hosts, storagePort, auth, null) {
            // The default factory asks for a node's preferred IP, which a client outside the ring lacks.
            @Override
            public StreamingChannel.Factory getConnectionFactory() {
                return new BulkLoadConnectionFactory(new EncryptionOptions.ServerEncryptionOptions(), storagePort);
            }
        };
    }

    private static int countSSTables(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return (int) files.filter(p -> p.getFileName().toString().endsWith("-Data.db")).count();
        }
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** BULKLOAD_DIR, else Spark's first local dir (an executor's scratch disk), else the JVM's temp dir. */
    private static String scratchRoot() {
        for (String name : new String[]{"BULKLOAD_DIR", "SPARK_LOCAL_DIRS"}) {
            String value = System.getenv(name);
            if (value != null && !value.isEmpty()) {
                return value.split(",")[0];
            }
        }
        return System.getProperty("java.io.tmpdir");
    }

    private static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(name + " is not set");
        }
        return value;
    }

    /** Progress to stderr, quietly: Spark keeps it in the task's log. */
    private static final class Stderr implements OutputHandler {
        public void output(String msg) { }
        public void debug(String msg) { }
        public void warn(String msg) { System.err.println(msg); }
        public void warn(Throwable th, String msg) { System.err.println(msg); th.printStackTrace(System.err); }
    }
}
