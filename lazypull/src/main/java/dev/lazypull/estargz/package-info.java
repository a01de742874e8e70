/**
 * The eStargz layer format: its TOC, footer, a verifying reader of blobs by range, and a writer.
 * Knows nothing of registries or filesystems: bytes come through {@link
 * dev.lazypull.estargz.BlobBytes}.
 */
@NullMarked
package dev.lazypull.estargz;

import org.jspecify.annotations.NullMarked;
