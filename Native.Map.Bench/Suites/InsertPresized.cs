using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Config;

namespace Native.Map.Bench.Suites;

/// <summary>
/// Insert into maps created with capacity N, so no growth happens: the cost of the capacity
/// allocation plus N plain inserts.
/// </summary>
[BenchmarkCategory("InsertPresized")]
[WholeTableJob]
public class InsertPresized : InsertSuite
{
    /// <inheritdoc/>
    protected override int Capacity => N;
}
