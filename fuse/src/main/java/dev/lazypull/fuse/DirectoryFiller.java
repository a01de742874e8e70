package dev.lazypull.fuse;

/**
 * Collects directory entries into the kernel's reply buffer during readdir. Offsets are the
 * filesystem's own cookies: {@code nextOffset} is what the kernel passes back to continue after
 * this entry, and must not be 0.
 */
public interface DirectoryFiller {
  /**
   * True when the kernel asked for readdirplus: then {@link #addEntry} is preferred, and each entry
   * it accepts (other than "." and "..") counts as one lookup of that inode.
   */
  boolean plus();

  /**
   * Adds a name with only its inode number and file type. Returns false, adding nothing, when the
   * reply is full; the kernel will ask again from this entry's offset.
   */
  boolean add(byte[] name, long ino, int mode, long nextOffset);

  /**
   * Adds a name with its full entry (readdirplus), or like {@link #add} when the kernel asked for
   * plain readdir. Returns false, adding nothing and counting no lookup, when the reply is full.
   */
  boolean addEntry(byte[] name, Entry entry, long nextOffset);
}
