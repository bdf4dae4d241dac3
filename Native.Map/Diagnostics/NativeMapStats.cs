namespace Native.Map;

/// <summary>A snapshot of a map's shape and memory, from <see cref="NativeMap{TKey, TValue, THasher}.GetStats"/>.</summary>
/// <param name="Count">Entries in the map.</param>
/// <param name="B">log2 of the bucket count (Go's B).</param>
/// <param name="BucketCount">Buckets in the current array, 2^B (overflow buckets not included).</param>
/// <param name="OverflowBucketCount">Overflow buckets chained into the current array (exact).</param>
/// <param name="OldBucketCount">Buckets of the array being evacuated, 0 when not growing.</param>
/// <param name="OldOverflowBucketCount">Overflow buckets chained into the old array.</param>
/// <param name="EvacuatedBuckets">Progress mark of the current growth (Go's nevacuate): old buckets below it are evacuated.</param>
/// <param name="IsGrowing">Whether an incremental growth is in progress.</param>
/// <param name="IsSameSizeGrowth">Whether that growth keeps the bucket count (it compacts overflow chains).</param>
/// <param name="LoadFactor">Count / BucketCount; growth to double starts above 6.5.</param>
/// <param name="NativeBytes">Native bytes this map owns right now, including the old array during growth.</param>
/// <param name="ApproxOverflowCount">Go's noverflow: exact below B = 16, sampled above; drives same-size growth.</param>
/// <param name="GrowthsStarted">Growths this map started since it was created (doubling and same-size).</param>
/// <param name="SameSizeGrowthsStarted">Of those, the same-size ones.</param>
public readonly record struct NativeMapStats(
    int Count,
    int B,
    long BucketCount,
    long OverflowBucketCount,
    long OldBucketCount,
    long OldOverflowBucketCount,
    long EvacuatedBuckets,
    bool IsGrowing,
    bool IsSameSizeGrowth,
    double LoadFactor,
    long NativeBytes,
    int ApproxOverflowCount,
    long GrowthsStarted,
    long SameSizeGrowthsStarted);
