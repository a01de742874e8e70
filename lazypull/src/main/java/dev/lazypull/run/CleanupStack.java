package dev.lazypull.run;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Undoes a run's steps in reverse order, exactly once, whether the run ends normally or on SIGTERM,
 * SIGINT or SIGHUP (the JVM runs shutdown hooks for all three).
 */
public final class CleanupStack implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CleanupStack.class);

  /** One step to undo. */
  @FunctionalInterface
  public interface Step {
    void undo() throws Exception;
  }

  private final Deque<Step> steps = new ArrayDeque<>();
  private final Thread hook = new Thread(this::close, "lazypull-cleanup");

  public CleanupStack() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Adds a step; it runs before the steps added earlier. */
  public synchronized void push(Step step) {
    steps.push(step);
  }

  @Override
  public synchronized void close() {
    while (!steps.isEmpty()) {
      Step step = steps.pop();
      try {
        step.undo();
      } catch (Exception e) {
        log.warn("clean-up step failed: {}", e.getMessage());
      }
    }
    if (Thread.currentThread() != hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down; the hook will find nothing left to do.
      }
    }
  }
}
