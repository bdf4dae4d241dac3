using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Native.Map.Hashing;

namespace Native.Map;

/// <summary>
/// A hasher for structs whose identity is exactly their bytes: hashes and compares the raw memory
/// of the key, never calling user code.
/// </summary>
/// <typeparam name="TKey">The key type; must have no padding and no two byte patterns that mean the same key.</typeparam>
/// <remarks>
/// Faster than <see cref="DefaultKeyHasher{TKey}"/> for large structs, and resistant to crafted
/// collisions (the whole key is mixed with the seed, unlike a 32-bit GetHashCode). Wrong for types with
/// padding bytes, floating-point fields (0.0 vs -0.0) or an Equals that ignores fields.
/// </remarks>
public readonly struct BitwiseKeyHasher<TKey> : IKeyHasher<TKey>
    where TKey : unmanaged
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe ulong Hash(in TKey key, ulong seed)
    {
        ref TKey k = ref Unsafe.AsRef(in key);
        if (sizeof(TKey) == 8)
        {
            return HashMix.Hash64(Unsafe.As<TKey, ulong>(ref k), seed);
        }
        if (sizeof(TKey) == 4)
        {
            return HashMix.Hash64(Unsafe.As<TKey, uint>(ref k), seed);
        }
        if (sizeof(TKey) == 16)
        {
            return HashMix.Hash128(Unsafe.As<TKey, ulong>(ref k), Unsafe.Add(ref Unsafe.As<TKey, ulong>(ref k), 1), seed);
        }
        return HashMix.HashBytes(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key)), seed);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe bool KeyEquals(in TKey x, in TKey y)
    {
        if (sizeof(TKey) == 8)
        {
            return Unsafe.As<TKey, ulong>(ref Unsafe.AsRef(in x)) == Unsafe.As<TKey, ulong>(ref Unsafe.AsRef(in y));
        }
        if (sizeof(TKey) == 4)
        {
            return Unsafe.As<TKey, uint>(ref Unsafe.AsRef(in x)) == Unsafe.As<TKey, uint>(ref Unsafe.AsRef(in y));
        }
        return MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in x)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in y)));
    }

    /// <inheritdoc/>
    public static bool CanThrow => false;
}
