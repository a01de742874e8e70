package dev.lazypull.snapshotter;

import java.util.List;

/** A mount containerd should perform, as in {@code mount -t type -o options source target}. */
public record MountSpec(String type, String source, List<String> options) {
  public MountSpec {
    options = List.copyOf(options);
  }
}
