using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Native.Map.Core.MapConstants;

namespace Native.Map.Core;

/// <summary>
/// The bucket (Go's <c>bmap</c>) for one key/value type pair: the only place that does pointer
/// arithmetic inside a bucket. Every member folds to constants at JIT time.
/// <code>
///   offset 0            8                      8+8*K                  8+8*K+8*V
///          | tophash[8] | keys[8] (K bytes each) | values[8] (V each) | overflow* |
/// </code>
/// Keys together and values together, so <c>&lt;long, byte&gt;</c> needs no padding. A key or value
/// larger than 128 bytes is stored indirectly: its slot holds a pointer to its own block.
/// </summary>
internal static unsafe class Bucket<TKey, TValue>
    where TKey : unmanaged
    where TValue : unmanaged
{
    /// <summary>Whether keys are stored behind a pointer. Go: indirectkey.</summary>
    public static bool IndirectKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => sizeof(TKey) > MaxKeySize;
    }

    /// <summary>Whether values are stored behind a pointer. Go: indirectelem.</summary>
    public static bool IndirectValue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => sizeof(TValue) > MaxElemSize;
    }

    /// <summary>Bytes per key slot. Go: keysize.</summary>
    public static int KeySlotSize
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => IndirectKey ? sizeof(void*) : sizeof(TKey);
    }

    /// <summary>Bytes per value slot. Go: elemsize.</summary>
    public static int ValueSlotSize
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => IndirectValue ? sizeof(void*) : sizeof(TValue);
    }

    /// <summary>Offset of keys[0].</summary>
    public static int KeysOffset => DataOffset;

    /// <summary>Offset of values[0].</summary>
    public static int ValuesOffset
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => DataOffset + BucketCount * KeySlotSize;
    }

    /// <summary>Offset of the overflow pointer; always pointer-aligned since every other part is a multiple of 8.</summary>
    public static int OverflowOffset
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ValuesOffset + BucketCount * ValueSlotSize;
    }

    /// <summary>Bucket size in bytes. Go: bucketsize.</summary>
    public static int Size
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => OverflowOffset + sizeof(void*);
    }

    /// <summary>Bucket <paramref name="index"/> of a bucket array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* At(byte* array, nuint index) => array + index * (nuint)Size;

    /// <summary>Address of key slot <paramref name="i"/> (the pointer itself when indirect).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* KeySlot(byte* b, nuint i) => b + DataOffset + i * (nuint)KeySlotSize;

    /// <summary>Address of value slot <paramref name="i"/> (the pointer itself when indirect).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* ValueSlot(byte* b, nuint i) => b + ValuesOffset + i * (nuint)ValueSlotSize;

    /// <summary>The key of slot <paramref name="i"/>, following the indirection if any (null if a stale indirect copy was scrubbed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TKey* Key(byte* b, nuint i) => IndirectKey ? *(TKey**)KeySlot(b, i) : (TKey*)KeySlot(b, i);

    /// <summary>The value of slot <paramref name="i"/>, following the indirection if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TValue* Value(byte* b, nuint i) => IndirectValue ? *(TValue**)ValueSlot(b, i) : (TValue*)ValueSlot(b, i);

    /// <summary>The next bucket of the chain, or null. Go: bmap.overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* Overflow(byte* b) => *(byte**)(b + OverflowOffset);

    /// <summary>Links <paramref name="ovf"/> after <paramref name="b"/>. Go: bmap.setoverflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetOverflow(byte* b, byte* ovf) => *(byte**)(b + OverflowOffset) = ovf;

    /// <summary>Whether the whole chain starting at <paramref name="b"/> has been evacuated. Go: evacuated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Evacuated(byte* b)
    {
        byte h = b[0];
        return h > EmptyOne && h < MinTopHash;
    }

    /// <summary>
    /// Bit i set when tophash[i] == <paramref name="top"/>: one 8-byte vector compare instead of a byte
    /// loop. The upper eight lanes are zero and <paramref name="top"/> never is (it is at least
    /// minTopHash), so they never match and need no mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint MatchTopHash(byte* b, byte top)
    {
        System.Diagnostics.Debug.Assert(top >= MinTopHash);
        Vector128<byte> tags = Vector128.CreateScalar(*(ulong*)b).AsByte();
        return Vector128.Equals(tags, Vector128.Create(top)).ExtractMostSignificantBits();
    }

    /// <summary>Bit i set when slot i is empty (emptyRest or emptyOne). Go: isEmpty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint MatchEmpty(byte* b)
    {
        Vector128<byte> tags = Vector128.CreateScalarUnsafe(*(ulong*)b).AsByte();
        return Vector128.Equals(tags & Vector128.Create((byte)0xFE), Vector128<byte>.Zero).ExtractMostSignificantBits() & 0xFF;
    }

    /// <summary>
    /// Prefetches the cache lines of a bucket after the first (a 144-byte bucket spans three), so
    /// the key, value and overflow pointer arrive with the tophash bytes instead of after them.
    /// Measured at 10^7 long keys: lookup hits 49 -> 40 ns, misses 47 -> 40 ns. Buckets larger than
    /// four lines (keys or values over 16 bytes) are left to the hardware.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchRest(byte* b)
    {
        if (Sse.IsSupported && Size <= 256)
        {
            Sse.Prefetch0(b + 64);
            if (Size > 128)
            {
                Sse.Prefetch0(b + 128);
            }
            if (LastByteMayStartAnotherLine)
            {
                Sse.Prefetch0(b + Size - 1);
            }
        }
    }

    /// <summary>
    /// Whether a bucket's last byte can lie in a line after the one holding byte 128. Buckets in a
    /// 64-byte-aligned array start at multiples of gcd(Size, 64) into a line, so the furthest start is
    /// 64 - gcd(Size, 64); for a 144-byte bucket that is 48, and byte 143 is then still in byte
    /// 128's line (48 + 143 &lt; 192). A JIT-time constant.
    /// </summary>
    private static bool LastByteMayStartAnotherLine
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Size & -Size) >= 64 ? Size - 1 >= 192 : 64 - (Size & -Size) + Size - 1 >= 192;
    }

    /// <summary>Prefetches every line of a bucket of up to four lines (the first as well as <see cref="PrefetchRest"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchWhole(byte* b)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(b);
            PrefetchRest(b);
        }
    }

    /// <summary>
    /// Prefetches the whole overflow bucket chained after <paramref name="b"/>, if there is one (reads
    /// <paramref name="b"/>'s overflow pointer). Overflow buckets sit wherever a chunk gave them out,
    /// so the hardware cannot predict them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchOverflowOf(byte* b)
    {
        if (Sse.IsSupported)
        {
            byte* ovf = Overflow(b);
            if (ovf != null)
            {
                PrefetchWhole(ovf);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="top"/> and the key and value slots of cell <paramref name="i"/> of
    /// <paramref name="src"/> into cell <paramref name="di"/> of <paramref name="dst"/> (an indirect
    /// slot moves as its pointer). The slot sizes are constants, so the copies become register moves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyCell(byte* dst, nuint di, byte top, byte* src, nuint i)
    {
        dst[di] = top;
        Unsafe.CopyBlockUnaligned(KeySlot(dst, di), KeySlot(src, i), (uint)KeySlotSize);
        Unsafe.CopyBlockUnaligned(ValueSlot(dst, di), ValueSlot(src, i), (uint)ValueSlotSize);
    }

    /// <summary>Bit i set when slot i holds a live entry (tophash &gt;= minTopHash).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint MatchLive(byte* b) => MatchLive(*(ulong*)b);

    /// <summary>Bit i set when byte i of <paramref name="tags"/> (a bucket's eight tophash bytes) marks a live entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint MatchLive(ulong tags) =>
        Vector128.GreaterThanOrEqual(Vector128.CreateScalarUnsafe(tags).AsByte(), Vector128.Create(MinTopHash)).ExtractMostSignificantBits() & 0xFF;

    /// <summary>
    /// Whether some slot is emptyRest, which ends the chain for lookups. emptyRest cells are a suffix
    /// of their chain (every cell after one is emptyRest too, which <c>CheckInvariants</c> enforces),
    /// so that is whether the last cell is: one byte compare instead of a test of all eight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HasEmptyRest(byte* b) => b[BucketCount - 1] == EmptyRest;
}
