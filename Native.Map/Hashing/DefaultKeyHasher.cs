using System.Runtime.CompilerServices;
using Native.Map.Hashing;

namespace Native.Map;

/// <summary>
/// The hasher <see cref="NativeMap{TKey, TValue}"/> uses: equality is <see cref="IEquatable{T}.Equals(T)"/>,
/// and the hash is consistent with it.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <remarks>
/// Built-in integer-like keys (integers, char, bool, <see cref="Guid"/>, <see cref="Int128"/>,
/// <see cref="UInt128"/>, <see cref="TimeSpan"/>) are hashed from their bits with a seeded 64-bit mixer,
/// Go's fast32/fast64 paths: the type tests below fold away at JIT time. Floating-point keys are
/// normalised first so <c>0.0</c> and <c>-0.0</c> are one key and every NaN payload is one key.
/// Any other struct is hashed through its own <see cref="object.GetHashCode"/> (which .NET requires
/// to agree with Equals, so fields ignored by Equals or padding bytes cannot split a key), mixed with
/// the map's seed. Use <see cref="BitwiseKeyHasher{TKey}"/> or your own <see cref="IKeyHasher{TKey}"/>
/// for a struct whose bytes are its identity.
/// </remarks>
public readonly struct DefaultKeyHasher<TKey> : IKeyHasher<TKey>
    where TKey : unmanaged, IEquatable<TKey>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(in TKey key, ulong seed)
    {
        ref TKey k = ref Unsafe.AsRef(in key);
        if (typeof(TKey) == typeof(long) || typeof(TKey) == typeof(ulong) || typeof(TKey) == typeof(nint)
            || typeof(TKey) == typeof(nuint) || typeof(TKey) == typeof(TimeSpan))
        {
            return HashMix.Hash64(Unsafe.As<TKey, ulong>(ref k), seed);
        }
        if (typeof(TKey) == typeof(int) || typeof(TKey) == typeof(uint))
        {
            return HashMix.Hash64(Unsafe.As<TKey, uint>(ref k), seed);
        }
        if (typeof(TKey) == typeof(short) || typeof(TKey) == typeof(ushort) || typeof(TKey) == typeof(char))
        {
            return HashMix.Hash64(Unsafe.As<TKey, ushort>(ref k), seed);
        }
        if (typeof(TKey) == typeof(byte) || typeof(TKey) == typeof(sbyte) || typeof(TKey) == typeof(bool))
        {
            return HashMix.Hash64(Unsafe.As<TKey, byte>(ref k), seed);
        }
        if (typeof(TKey) == typeof(double))
        {
            double d = Unsafe.As<TKey, double>(ref k);
            ulong bits = d == 0 ? 0 : double.IsNaN(d) ? 0x7FF8000000000000UL : BitConverter.DoubleToUInt64Bits(d);
            return HashMix.Hash64(bits, seed);
        }
        if (typeof(TKey) == typeof(float))
        {
            float f = Unsafe.As<TKey, float>(ref k);
            uint bits = f == 0 ? 0 : float.IsNaN(f) ? 0x7FC00000U : BitConverter.SingleToUInt32Bits(f);
            return HashMix.Hash64(bits, seed);
        }
        if (typeof(TKey) == typeof(Half))
        {
            Half h = Unsafe.As<TKey, Half>(ref k);
            ushort bits = h == Half.Zero ? (ushort)0 : Half.IsNaN(h) ? (ushort)0x7E00 : BitConverter.HalfToUInt16Bits(h);
            return HashMix.Hash64(bits, seed);
        }
        if (typeof(TKey) == typeof(Guid) || typeof(TKey) == typeof(Int128) || typeof(TKey) == typeof(UInt128))
        {
            return HashMix.Hash128(Unsafe.As<TKey, ulong>(ref k), Unsafe.Add(ref Unsafe.As<TKey, ulong>(ref k), 1), seed);
        }
        return HashMix.Hash64((uint)k.GetHashCode(), seed);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool KeyEquals(in TKey x, in TKey y)
    {
        if (typeof(TKey) == typeof(long) || typeof(TKey) == typeof(ulong))
        {
            return Unsafe.As<TKey, ulong>(ref Unsafe.AsRef(in x)) == Unsafe.As<TKey, ulong>(ref Unsafe.AsRef(in y));
        }
        if (typeof(TKey) == typeof(int) || typeof(TKey) == typeof(uint))
        {
            return Unsafe.As<TKey, uint>(ref Unsafe.AsRef(in x)) == Unsafe.As<TKey, uint>(ref Unsafe.AsRef(in y));
        }
        return x.Equals(y);
    }

    /// <inheritdoc/>
    /// <remarks>Forced inline, as is <see cref="IsBuiltIn"/>: reads test it after every call into a key's code, and a
    /// caller that had used up the JIT's inlining budget (a loop with a lookup inlined twice) kept it as a call.</remarks>
    public static bool CanThrow
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !IsBuiltIn;
    }

    private static bool IsBuiltIn
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get =>
            typeof(TKey) == typeof(long) || typeof(TKey) == typeof(ulong) || typeof(TKey) == typeof(nint)
            || typeof(TKey) == typeof(nuint) || typeof(TKey) == typeof(TimeSpan) || typeof(TKey) == typeof(int)
            || typeof(TKey) == typeof(uint) || typeof(TKey) == typeof(short) || typeof(TKey) == typeof(ushort)
            || typeof(TKey) == typeof(char) || typeof(TKey) == typeof(byte) || typeof(TKey) == typeof(sbyte)
            || typeof(TKey) == typeof(bool) || typeof(TKey) == typeof(double) || typeof(TKey) == typeof(float)
            || typeof(TKey) == typeof(Half) || typeof(TKey) == typeof(Guid) || typeof(TKey) == typeof(Int128)
            || typeof(TKey) == typeof(UInt128);
    }
}
