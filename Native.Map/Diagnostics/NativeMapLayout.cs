using Native.Map.Core;

namespace Native.Map;

/// <summary>
/// The byte layout of one bucket (Go's <c>bmap</c>) for a key/value type pair:
/// <c>tophash[8] | keys[8] | values[8] | overflow pointer</c>.
/// </summary>
/// <param name="BucketSize">Bytes per bucket.</param>
/// <param name="TopHashOffset">Offset of the 8 tophash bytes (always 0).</param>
/// <param name="KeysOffset">Offset of the 8 key slots.</param>
/// <param name="ValuesOffset">Offset of the 8 value slots.</param>
/// <param name="OverflowOffset">Offset of the overflow bucket pointer.</param>
/// <param name="KeySlotSize">Bytes per key slot (pointer size when indirect).</param>
/// <param name="ValueSlotSize">Bytes per value slot (pointer size when indirect).</param>
/// <param name="IndirectKey">Whether keys (over 128 bytes) are stored in separate blocks.</param>
/// <param name="IndirectValue">Whether values (over 128 bytes) are stored in separate blocks.</param>
public readonly record struct NativeMapLayout(
    int BucketSize,
    int TopHashOffset,
    int KeysOffset,
    int ValuesOffset,
    int OverflowOffset,
    int KeySlotSize,
    int ValueSlotSize,
    bool IndirectKey,
    bool IndirectValue)
{
    /// <summary>Slots per bucket (Go's bucketCnt).</summary>
    public const int SlotsPerBucket = MapConstants.BucketCount;

    /// <summary>Largest key or value size kept inline; larger ones are indirect.</summary>
    public const int MaxInlineSize = MapConstants.MaxKeySize;

    /// <summary>The layout NativeMap uses for <typeparamref name="TKey"/> and <typeparamref name="TValue"/>.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <returns>Offsets and sizes of the bucket. For &lt;long, long&gt; that is 144 bytes: tophash at 0, keys at 8, values at 72, overflow at 136.</returns>
    public static NativeMapLayout Of<TKey, TValue>()
        where TKey : unmanaged
        where TValue : unmanaged
        => new(
            Bucket<TKey, TValue>.Size,
            0,
            Bucket<TKey, TValue>.KeysOffset,
            Bucket<TKey, TValue>.ValuesOffset,
            Bucket<TKey, TValue>.OverflowOffset,
            Bucket<TKey, TValue>.KeySlotSize,
            Bucket<TKey, TValue>.ValueSlotSize,
            Bucket<TKey, TValue>.IndirectKey,
            Bucket<TKey, TValue>.IndirectValue);
}
