using System.Runtime.InteropServices;

namespace Native.Map.Core;

/// <summary>
/// The map header, field for field Go's <c>hmap</c> (48 bytes on 64-bit). It lives inside the
/// managed <see cref="NativeMap{TKey, TValue, THasher}"/> object and is only reached by <c>ref</c>;
/// everything it points to is native memory.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MapHeader
{
    /// <summary># live cells == size of map. Go: hmap.count.</summary>
    public long Count;

    /// <summary>HashWriting | SameSizeGrow | Disposed. Go: hmap.flags.</summary>
    public byte Flags;

    /// <summary>log_2 of # of buckets (can hold up to 6.5 * 2^B items). Go: hmap.B.</summary>
    public byte B;

    /// <summary>Approximate number of overflow buckets; see IncrNOverflow. Go: hmap.noverflow.</summary>
    public ushort NOverflow;

    /// <summary>Hash seed, re-randomised by Clear and when Count returns to 0. Go: hmap.hash0.</summary>
    public uint Hash0;

    /// <summary>Array of 2^B buckets (plus the preallocated overflow tail); null until the first write. Go: hmap.buckets.</summary>
    public byte* Buckets;

    /// <summary>Previous bucket array, non-null only while growing. Go: hmap.oldbuckets.</summary>
    public byte* OldBuckets;

    /// <summary>Evacuation progress: old buckets below this index are evacuated. Go: hmap.nevacuate.</summary>
    public nuint NEvacuate;

    /// <summary>Overflow bookkeeping, allocated with the first bucket array. Go: hmap.extra.</summary>
    public MapExtra* Extra;
}

/// <summary>
/// Go's <c>mapextra</c>. In Go, <c>overflow</c>/<c>oldoverflow</c> exist to keep overflow buckets
/// alive for the garbage collector. Here nothing collects them: they are the lists of overflow
/// chunks this map frees, the old list when evacuation ends and both on Clear/Dispose.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MapExtra
{
    /// <summary>Overflow chunks holding overflow buckets of <see cref="MapHeader.Buckets"/>.</summary>
    public OverflowChunk* Overflow;

    /// <summary>Overflow chunks holding overflow buckets of <see cref="MapHeader.OldBuckets"/>.</summary>
    public OverflowChunk* OldOverflow;

    /// <summary>
    /// Next free preallocated overflow bucket, or null. Go's convention: a free bucket whose overflow
    /// pointer is null has more free buckets after it; the last one carries a non-null sentinel.
    /// </summary>
    public byte* NextOverflow;
}

/// <summary>
/// Header of a block of overflow buckets allocated once the bucket array's preallocated tail is used
/// up (Go allocates each overflow bucket on its own; a chunk is freed in one call, so ending an
/// evacuation never walks thousands of single buckets). The buckets start at <see cref="HeaderSize"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct OverflowChunk
{
    /// <summary>Bytes before the first bucket, one cache line so buckets stay 64-byte aligned.</summary>
    public const int HeaderSize = 64;

    /// <summary>Next chunk of the same table.</summary>
    public OverflowChunk* Next;

    /// <summary>Size of this allocation in bytes, header included.</summary>
    public nuint Bytes;

    /// <summary>Number of buckets in the chunk.</summary>
    public nuint BucketCount;
}
