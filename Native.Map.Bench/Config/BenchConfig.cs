using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;

namespace Native.Map.Bench.Config;

/// <summary>
/// The configuration every BenchmarkDotNet suite runs under: memory diagnoser, GitHub Markdown
/// export, results grouped by category and parameters so each group has its own Dictionary baseline
/// and ratio column.
/// </summary>
/// <remarks>
/// No job is defined here on purpose: the job comes from the command line (<c>--job short</c>,
/// <c>--job dry</c>, ...; BenchmarkDotNet's default job otherwise). A job added here would either
/// override <c>--job</c> or run in addition to it. Suites whose single invocation is long carry
/// their own iteration caps as attributes (see <see cref="WholeTableJobAttribute"/>).
/// </remarks>
public sealed class BenchConfig : ManualConfig
{
    /// <summary>The shared configuration.</summary>
    public static IConfig Default { get; } = new BenchConfig();

    private BenchConfig()
    {
        // DefaultConfig already exports GitHub Markdown (plus CSV and HTML) to BenchmarkDotNet.Artifacts/results.
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(CategoriesColumn.Default);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared, BenchmarkDotNet.Order.MethodOrderPolicy.Declared));
        WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value));
    }
}
