/**
 * eStargz images in registries: converting an image to eStargz and pushing it. Sits above the
 * format package {@code dev.lazypull.estargz} and the registry client.
 */
@NullMarked
package dev.lazypull.estargz.image;

import org.jspecify.annotations.NullMarked;
