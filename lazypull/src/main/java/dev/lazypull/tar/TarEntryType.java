package dev.lazypull.tar;

/** The kinds of tar entry that describe a file in the layer (metadata entries are consumed). */
public enum TarEntryType {
  REGULAR("reg"),
  HARDLINK("hardlink"),
  SYMLINK("symlink"),
  CHAR_DEVICE("char"),
  BLOCK_DEVICE("block"),
  DIRECTORY("dir"),
  FIFO("fifo");

  private final String ztocName;

  TarEntryType(String ztocName) {
    this.ztocName = ztocName;
  }

  /** The name a zTOC uses for this type ({@code reg}, {@code dir}, ...). */
  public String ztocName() {
    return ztocName;
  }

  /** The type named {@code ztocName} in a zTOC; IllegalArgumentException for others. */
  public static TarEntryType fromZtocName(String ztocName) {
    for (TarEntryType type : values()) {
      if (type.ztocName.equals(ztocName)) {
        return type;
      }
    }
    throw new IllegalArgumentException("unknown file type '" + ztocName + "'");
  }
}
