using Native.Map.Hashing;

namespace Native.Map.Tests.Support;

/// <summary>
/// A deliberately bad hasher for <c>long</c> keys: only the low <see cref="Bits"/> bits of the key
/// reach the hash, and the seed is ignored. Keys that agree in those bits share bucket and tophash,
/// so a few hundred keys build long overflow chains, deletes leave sparse chains behind (same-size
/// growth), and every lookup runs the key compare. Placement does not depend on the per-process
/// secrets' effect on the seed, which keeps failures reproducible.
/// </summary>
public readonly struct CollidingHasher : IKeyHasher<long>
{
    /// <summary>Key bits that reach the hash: 16 distinct hashes.</summary>
    public const int Bits = 4;

    public static ulong Hash(in long key, ulong seed)
    {
        ulong z = ((ulong)key & ((1UL << Bits) - 1)) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static bool KeyEquals(in long x, in long y) => x == y;

    public static bool CanThrow => false;
}

/// <summary>
/// A good hasher that ignores the map's seed (splitmix64 of the key): bucket placement is the same in
/// every process and every map, so a failing sequence replays with the same layout.
/// </summary>
public readonly struct SeedlessHasher : IKeyHasher<long>
{
    public static ulong Hash(in long key, ulong seed)
    {
        ulong z = (ulong)key + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static bool KeyEquals(in long x, in long y) => x == y;

    public static bool CanThrow => false;
}

/// <summary>Offline knowledge of where a map with a fixed hash0 puts a key (Go's bucket and tophash rules).</summary>
public static class Placement
{
    /// <summary>The 64-bit seed a map created with fixed <paramref name="hash0"/> hands its hasher.</summary>
    public static ulong SeedOf(uint hash0) => HashMix.ExpandSeed(hash0);

    /// <summary>The bucket index of <paramref name="hash"/> in an array of 2^<paramref name="b"/> buckets.</summary>
    public static ulong BucketOf(ulong hash, int b) => hash & ((1UL << b) - 1);

    /// <summary>The tophash byte of <paramref name="hash"/> (top byte, shifted above the reserved marks).</summary>
    public static byte TopHashOf(ulong hash)
    {
        byte top = (byte)(hash >> 56);
        return top < 5 ? (byte)(top + 5) : top;
    }
}
