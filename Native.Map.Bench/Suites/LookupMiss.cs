using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Suites;

/// <summary>Look up keys that are absent (the next N outputs of the key stream), shuffled in [GlobalSetup]; every value read is 0.</summary>
[BenchmarkCategory("LookupMiss")]
public class LookupMiss : LookupSuite
{
    /// <inheritdoc/>
    protected override long[] ProbeKeys(long[] inserted) => Keys.Misses(inserted.Length);
}
