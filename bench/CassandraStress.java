// A cassandra-stress stand-in: cassandra-stress ships only in Cassandra's binary tarball, which no
// registry this project can reach serves. It writes the rows of a clickstream TSV the way the
// streaming sink does (one edges_in and one edges_out row each, prepared INSERTs at LOCAL_QUORUM)
// with the DataStax Java driver the Spark Cassandra Connector uses, as fast as the cluster takes
// them: a bounded number of async writes in flight, like cassandra-stress's thread count.
//
//   java -cp '<connector jars>/*' bench/CassandraStress.java HOST:PORT DC KEYSPACE FILE ROWS IN_FLIGHT
//
// Prints one line: rows, seconds, rows/s, and write latency p50/p99 in ms.

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import java.io.BufferedReader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

public class CassandraStress {
  public static void main(String[] args) throws Exception {
    String[] hostPort = args[0].split(":");
    String dc = args[1], keyspace = args[2];
    Path file = Path.of(args[3]);
    int rows = Integer.parseInt(args[4]), inFlight = Integer.parseInt(args[5]);
    List<String[]> data = new ArrayList<>(rows);
    try (BufferedReader in = Files.newBufferedReader(file)) {
      String line;
      while (data.size() < rows && (line = in.readLine()) != null) data.add(line.split("\t", -1));
    }
    try (CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
        // The writer role, as the Spark sink logs in; from the environment, so not in `ps`.
        .withAuthCredentials(System.getenv("CASSANDRA_USER"), System.getenv("CASSANDRA_PASSWORD"))
        .withLocalDatacenter(dc).withKeyspace(keyspace).build()) {
      PreparedStatement in = session.prepare(
          "INSERT INTO edges_in (lang, month, curr, n, prev, type) VALUES ('stress', '2001-02', ?, ?, ?, ?)");
      PreparedStatement out = session.prepare(
          "INSERT INTO edges_out (lang, month, prev, bucket, n, curr, type) VALUES ('stress', '2001-02', ?, 0, ?, ?, ?)");
      Semaphore permits = new Semaphore(inFlight);
      long[] latencies = new long[2 * data.size()];
      AtomicLong index = new AtomicLong(), failures = new AtomicLong();
      long started = System.nanoTime();
      for (String[] r : data) {
        long n = Long.parseLong(r[3]);
        write(session, in.bind(r[1], n, r[0], r[2]), permits, latencies, index, failures);
        write(session, out.bind(r[0], n, r[1], r[2]), permits, latencies, index, failures);
      }
      permits.acquire(inFlight);
      double seconds = (System.nanoTime() - started) / 1e9;
      long[] done = Arrays.copyOf(latencies, (int) index.get());
      Arrays.sort(done);
      System.out.printf("rows=%d seconds=%.2f rows_per_second=%.0f p50_ms=%.2f p99_ms=%.2f failures=%d%n",
          data.size(), seconds, data.size() / seconds, done[done.length / 2] / 1e6,
          done[(int) (done.length * 0.99)] / 1e6, failures.get());
    }
  }

  static void write(CqlSession session, com.datastax.oss.driver.api.core.cql.BoundStatement statement,
                    Semaphore permits, long[] latencies, AtomicLong index, AtomicLong failures)
      throws InterruptedException {
    permits.acquire();
    long sent = System.nanoTime();
    CompletableFuture<?> done = session.executeAsync(
        statement.setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM)).toCompletableFuture();
    done.whenComplete((result, error) -> {
      if (error != null) failures.incrementAndGet();
      latencies[(int) index.getAndIncrement()] = System.nanoTime() - sent;
      permits.release();
    });
  }
}
