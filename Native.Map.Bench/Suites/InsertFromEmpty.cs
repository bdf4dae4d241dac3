using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Config;

namespace Native.Map.Bench.Suites;

/// <summary>Insert into maps created empty (no capacity hint), so the cost includes every growth.</summary>
[BenchmarkCategory("InsertFromEmpty")]
[WholeTableJob]
public class InsertFromEmpty : InsertSuite
{
    /// <inheritdoc/>
    protected override int Capacity => 0;
}
