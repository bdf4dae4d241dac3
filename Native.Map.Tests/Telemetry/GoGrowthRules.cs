using NUnit.Framework;

namespace Native.Map.Tests.Telemetry;

/// <summary>
/// Go's growth triggers (mapassign in runtime/map.go), written out independently of the library so a
/// test can check every insert against them: a growth starts only on the insert of a new key, only
/// when no growth is in progress, and only when the count would pass the load factor 6.5 (then it
/// doubles) or there are at least 2^min(B, 15) overflow buckets (then it keeps the size).
/// </summary>
internal static class GoGrowthRules
{
    /// <summary>Whether <paramref name="count"/> entries in 2^<paramref name="b"/> buckets are over Go's load factor (more than 8, and more than 6.5 per bucket).</summary>
    public static bool OverLoadFactor(long count, int b) => count > 8 && count > 6.5 * Math.Pow(2, b);

    /// <summary>Go's tooManyOverflowBuckets on the (approximate) noverflow counter.</summary>
    public static bool TooManyOverflowBuckets(int noverflow, int b) => noverflow >= 1 << Math.Min(b, 15);

    /// <summary>
    /// Sets <paramref name="key"/> and fails unless the write started a growth exactly when Go would,
    /// of the kind Go would pick.
    /// </summary>
    public static void AssertInsertObeys<TKey, TValue, THasher>(NativeMap<TKey, TValue, THasher> map, TKey key, TValue value)
        where TKey : unmanaged
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey>
    {
        NativeMapStats pre = map.GetStats();
        bool isNew = !map.ContainsKey(key);
        map[key] = value;
        NativeMapStats post = map.GetStats();
        bool over = OverLoadFactor(pre.Count + 1, pre.B);
        bool tooMany = TooManyOverflowBuckets(pre.ApproxOverflowCount, pre.B);
        bool expectStart = isNew && !pre.IsGrowing && (over || tooMany);
        long started = post.GrowthsStarted - pre.GrowthsStarted;
        long sameSize = post.SameSizeGrowthsStarted - pre.SameSizeGrowthsStarted;
        if (started != (expectStart ? 1 : 0) || sameSize != (expectStart && !over ? 1 : 0))
        {
            Assert.Fail(
                $"insert of {key} (new: {isNew}) started {started} growth(s), {sameSize} same-size; Go would start " +
                $"{(expectStart ? over ? "a doubling" : "a same-size growth" : "none")} " +
                $"(count {pre.Count}, B {pre.B}, noverflow {pre.ApproxOverflowCount}, growing {pre.IsGrowing})");
        }
    }
}
