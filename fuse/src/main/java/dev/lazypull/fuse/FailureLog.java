package dev.lazypull.fuse;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs a callback's unexpected exception once per operation and exception class. */
final class FailureLog {
  private static final Logger LOG = LoggerFactory.getLogger(FailureLog.class);

  private final Set<String> seen = ConcurrentHashMap.newKeySet();

  void callbackFailed(int opcode, long nodeId, Throwable failure) {
    var key = opcode + ":" + failure.getClass().getName();
    if (seen.add(key)) {
      LOG.error(
          "FUSE {} on inode {} threw {}; answering EIO (further {} from {} are not logged)",
          Protocol.opcodeName(opcode),
          nodeId,
          failure.toString(),
          failure.getClass().getSimpleName(),
          Protocol.opcodeName(opcode),
          failure);
    }
  }
}
