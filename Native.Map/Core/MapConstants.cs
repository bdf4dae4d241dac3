namespace Native.Map.Core;

/// <summary>
/// Constants of the bucket map, named after Go's runtime/map.go (Go 1.19–1.23).
/// </summary>
internal static class MapConstants
{
    /// <summary>log2 of the number of slots per bucket. Go: bucketCntBits.</summary>
    public const int BucketCountBits = 3;

    /// <summary>Maximum number of key/value pairs a bucket holds. Go: bucketCnt.</summary>
    public const int BucketCount = 1 << BucketCountBits;

    /// <summary>Growth starts when count &gt; LoadFactorNum/LoadFactorDen * 2^B (6.5). Go: loadFactorNum/Den.</summary>
    public const int LoadFactorNum = 13;

    /// <inheritdoc cref="LoadFactorNum"/>
    public const int LoadFactorDen = 2;

    /// <summary>Largest key kept inline in the bucket; larger keys live in their own block. Go: maxKeySize.</summary>
    public const int MaxKeySize = 128;

    /// <summary>Largest value kept inline in the bucket. Go: maxElemSize.</summary>
    public const int MaxElemSize = 128;

    /// <summary>Offset of the keys array: just past tophash[8], already 8-byte aligned. Go: dataOffset.</summary>
    public const int DataOffset = BucketCount;

    // Possible tophash values. A few low values are reserved as marks.
    // Each bucket (including its overflow buckets) has either all or none of its entries
    // in the evacuated* states, except inside Evacuate(), which runs under the writer flag
    // so nobody else observes the map in between.

    /// <summary>This cell is empty, and there are no more non-empty cells at higher indexes or overflows.</summary>
    public const byte EmptyRest = 0;

    /// <summary>This cell is empty.</summary>
    public const byte EmptyOne = 1;

    /// <summary>Key/value are valid; the entry was evacuated to the first half (X) of the larger table.</summary>
    public const byte EvacuatedX = 2;

    /// <summary>Same as <see cref="EvacuatedX"/>, but to the second half (Y).</summary>
    public const byte EvacuatedY = 3;

    /// <summary>Cell is empty and its bucket is evacuated.</summary>
    public const byte EvacuatedEmpty = 4;

    /// <summary>Minimum tophash of a filled cell; computed top bytes below it are shifted up.</summary>
    public const byte MinTopHash = 5;

    // hmap.flags bits.

    /// <summary>A writer owns the map. Go: hashWriting. Set and cleared with a compare-and-swap.</summary>
    public const byte HashWriting = 4;

    /// <summary>The current growth is to a table of the same size. Go: sameSizeGrow.</summary>
    public const byte SameSizeGrow = 8;

    /// <summary>Not in Go: the map was disposed; set together with <see cref="HashWriting"/>, never cleared.</summary>
    public const byte Disposed = 16;

    /// <summary>
    /// Not in Go: the map has a bucket array and no growth is under way, so a lookup reads one chain
    /// of the current array without testing for an empty map or an old bucket. Kept by
    /// <c>SetArrays</c>, the one place the arrays change; <c>CheckInvariants</c> verifies it.
    /// </summary>
    public const byte PlainReads = 32;

    /// <summary>Sentinel bucket id for iterator checks. Go: noCheck.</summary>
    public static nuint NoCheck => nuint.MaxValue;

    /// <summary>
    /// Largest B we accept: 2^40 buckets is far beyond any address space we can map, so a capacity
    /// that needs more is rejected with ArgumentOutOfRangeException before anything is allocated.
    /// </summary>
    public const int MaxB = 40;

    /// <summary>
    /// Old buckets a write evacuates from nevacuate on, in order, after the one it touches. Go: 1
    /// (growWork's "evacuate one more"). Four finish a doubling in about a third of the writes
    /// (the one at 6.8·10^6 long keys: 726,807 -> 234,045 inserts), so fewer writes land in an old
    /// bucket not yet evacuated and pay a random evacuation, and more of the work walks both arrays
    /// in address order, where the hardware prefetcher helps. Measured on 10^7 inserts from empty
    /// (demo-child, 4 alternating pairs): 103-105 -> 94-98 ns; 2 gave 97-101, 8 gave 92-96 but
    /// raised the demo's per-insert p99 from 0.73 to 1.35 µs (4: about 1 µs).
    /// </summary>
    public const int SequentialEvacuationsPerWrite = 4;
}
