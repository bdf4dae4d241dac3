using BenchmarkDotNet.Attributes;

namespace Native.Map.Bench.Suites;

/// <summary>Look up keys that are present, in a shuffled order fixed in [GlobalSetup].</summary>
[BenchmarkCategory("LookupHit")]
public class LookupHit : LookupSuite
{
    /// <inheritdoc/>
    protected override long[] ProbeKeys(long[] inserted) => inserted;
}
