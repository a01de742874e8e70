package dev.lazypull.snapshotter;

/** Disk space a snapshot's own directory holds: bytes and distinct inodes. */
public record Usage(long size, long inodes) {
  public static final Usage NONE = new Usage(0, 0);
}
