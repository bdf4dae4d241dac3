namespace Native.Map.Bench.Common;

/// <summary>
/// Keys for every benchmark and scenario: splitmix64 from a fixed seed, so runs are repeatable and
/// both maps always see the same keys in the same order.
/// </summary>
/// <remarks>
/// splitmix64 adds a constant to its state and mixes the result with a bijection, so the first
/// 2^64 outputs of one stream are all distinct. Hit keys are the first N outputs of the stream and
/// miss keys the next N: no miss key can ever be a hit key.
/// </remarks>
public static class Keys
{
    /// <summary>The seed of every key stream (any constant would do; this one is fixed forever).</summary>
    public const ulong Seed = 0x5EED_0000_2024_0003;

    /// <summary>Seed of the permutation that shuffles lookup order.</summary>
    public const ulong ShuffleSeed = 0x5EED_0000_5A0F_F1E5;

    /// <summary>One splitmix64 step (Steele, Lea, Flood 2014; the generator Java's SplittableRandom uses).</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Outputs <paramref name="skip"/> .. <paramref name="skip"/>+<paramref name="count"/>-1 of the stream for <paramref name="seed"/>.</summary>
    public static long[] Stream(int count, long skip = 0, ulong seed = Seed)
    {
        var keys = new long[count];
        ulong state = seed + (ulong)skip * 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = (long)SplitMix64(ref state);
        }
        return keys;
    }

    /// <summary>The N keys that are inserted.</summary>
    public static long[] Hits(int n) => Stream(n);

    /// <summary>N keys that are never inserted (the next N outputs of the same stream).</summary>
    public static long[] Misses(int n) => Stream(n, skip: n);

    /// <summary>A copy of <paramref name="keys"/> in a fixed random order (Fisher–Yates driven by splitmix64).</summary>
    public static T[] Shuffled<T>(T[] keys, ulong seed = ShuffleSeed)
    {
        var copy = (T[])keys.Clone();
        ulong state = seed;
        for (int i = copy.Length - 1; i > 0; i--)
        {
            int j = (int)(SplitMix64(ref state) % (ulong)(i + 1));
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }
        return copy;
    }

    /// <summary>
    /// FNV-1a over the 64-bit words of <paramref name="arrays"/>, in order: lets the demo check that
    /// every contestant (the .NET children and the Go map's) saw the same keys in the same order.
    /// </summary>
    public static ulong Digest(params long[][] arrays)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (long[] a in arrays)
        {
            foreach (long k in a)
            {
                h = (h ^ (ulong)k) * 0x100000001b3UL;
            }
        }
        return h;
    }

    /// <summary>
    /// Lookup keys for batches of <paramref name="batch"/>: <paramref name="keys"/> shuffled, then
    /// repeated (reshuffled each time) until the length is a multiple of the batch, so a benchmark
    /// can walk it batch by batch without a bounds test per lookup.
    /// </summary>
    public static T[] ProbeOrder<T>(T[] keys, int batch)
    {
        int length = checked((keys.Length + batch - 1) / batch * batch);
        var probe = new T[length];
        int filled = 0;
        ulong round = 0;
        while (filled < length)
        {
            T[] pass = Shuffled(keys, ShuffleSeed + round++);
            int take = Math.Min(pass.Length, length - filled);
            Array.Copy(pass, 0, probe, filled, take);
            filled += take;
        }
        return probe;
    }
}
