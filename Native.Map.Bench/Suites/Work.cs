namespace Native.Map.Bench.Suites;

/// <summary>
/// How much work one benchmark invocation does. BenchmarkDotNet's OperationsPerInvoke must be a
/// compile-time constant (it cannot follow a [Params] value, dotnet/BenchmarkDotNet#1832), so every
/// invocation does a fixed number of operations whatever N is, and the reported Mean is ns per
/// operation for every N.
/// </summary>
public static class Work
{
    /// <summary>
    /// Entries per invocation of a whole-table operation (insert, remove, iterate): 10^7, the largest
    /// N, so an invocation at N is 10^7 / N maps of N entries (or 10^7 / N passes over one map).
    /// </summary>
    public const int PerInvocation = 10_000_000;

    /// <summary>Lookups per invocation of a lookup benchmark; a cursor walks the shuffled keys batch by batch.</summary>
    public const int LookupBatch = 1 << 14;

    /// <summary>Maps (or passes) per invocation at size <paramref name="n"/>.</summary>
    public static int Repetitions(int n) =>
        PerInvocation % n == 0 ? PerInvocation / n : throw new ArgumentOutOfRangeException(nameof(n), n, $"N must divide {PerInvocation}.");
}
