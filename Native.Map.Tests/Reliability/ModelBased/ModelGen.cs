using CsCheck;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.ModelBased;

/// <summary>CsCheck generators of <see cref="Scenario"/>s, and a seeded sampler that shrinks failures.</summary>
internal static class ModelGen
{
    /// <summary>Key spaces: a tiny one (many hits, many duplicates) up to one that needs several growths.</summary>
    private static readonly int[] KeySpaces = [4, 16, 64, 512, 4096];

    private static Gen<IterStep> Step(int keySpace) => Gen.Frequency(
        (12, Gen.Const(new IterStep(IterAction.None, 0, 0, 0))),
        (3, Gen.Const(new IterStep(IterAction.RemoveCurrent, 0, 0, 0))),
        (3, Gen.Int[0, 1 << 16].Select(k => new IterStep(IterAction.RemoveOther, k, 0, 0))),
        (3, Gen.Select(Gen.Int[0, 2 * keySpace], Gen.Int[0, 1000], (k, v) => new IterStep(IterAction.AddNew, k, v, 0))),
        (1, Gen.Select(Gen.Int[0, 64], Gen.Int[1, 300], (b, n) => new IterStep(IterAction.AddMany, 100_000 + (b * 1000), b, n))),
        (2, Gen.Int[0, 1000].Select(v => new IterStep(IterAction.OverwriteCurrent, 0, v, 0))),
        (2, Gen.Select(Gen.Int[0, 1 << 16], Gen.Int[0, 1000], (k, v) => new IterStep(IterAction.OverwriteOther, k, v, 0))),
        (1, Gen.Int[0, 1000].Select(v => new IterStep(IterAction.ReAddCurrent, 0, v, 0))),
        (1, Gen.Frequency((1, Gen.Const(new IterStep(IterAction.Clear, 0, 0, 0))), (3, Gen.Const(new IterStep(IterAction.None, 0, 0, 0))))),
        (1, Gen.Const(new IterStep(IterAction.Break, 0, 0, 0))));

    private static Gen<Op> Operation(int keySpace)
    {
        Gen<int> key = Gen.Int[0, keySpace - 1];
        Gen<int> value = Gen.Int[-1000, 1000];
        Gen<Op> keyed(OpKind kind) => key.Select(k => new Op(kind, k));
        Gen<Op> keyValue(OpKind kind) => Gen.Select(key, value, (k, v) => new Op(kind, k, v));
        return Gen.Frequency(
            (10, keyValue(OpKind.Set)),
            (3, keyed(OpKind.Get)),
            (4, keyValue(OpKind.Add)),
            (4, keyValue(OpKind.TryAdd)),
            (4, keyed(OpKind.TryGetValue)),
            (2, keyed(OpKind.GetValueOrDefault)),
            (3, keyed(OpKind.ContainsKey)),
            (6, keyed(OpKind.Remove)),
            (3, keyed(OpKind.RemoveOut)),
            (1, Gen.Const(new Op(OpKind.Clear))),
            (1, Gen.Int[-2, 3000].Select(n => new Op(OpKind.EnsureCapacity, Arg: n))),
            (1, Gen.Const(new Op(OpKind.Count))),
            (3, Step(keySpace).Array[0, 40].Select(steps => new Op(OpKind.Foreach, Steps: steps))),
            (1, Gen.Const(new Op(OpKind.Keys))),
            (1, Gen.Const(new Op(OpKind.Values))),
            (2, Gen.Select(key, value, Gen.Int[1, 400], (k, v, n) => new Op(OpKind.BulkSet, k, v, n))),
            (1, Gen.Select(key, Gen.Int[1, 400], (k, n) => new Op(OpKind.BulkRemove, k, 0, n))),
            (1, Gen.Select(key, value, Gen.Int[0, 1], (k, v, a) => new Op(OpKind.PairContains, k, v, a))),
            (1, Gen.Select(key, value, Gen.Int[0, 1], (k, v, a) => new Op(OpKind.PairRemove, k, v, a))),
            (1, Gen.Select(key, value, Gen.Int[0, 1], (k, v, a) => new Op(OpKind.ContainsValue, k, v, a))),
            (2, Gen.Select(key, value, Gen.Int[0, 300], (k, v, n) => new Op(OpKind.BatchGet, k, v, n))),
            (2, Gen.Select(key, value, Gen.Int[0, 300], (k, v, n) => new Op(OpKind.BatchSet, k, v, n))),
            (2, Gen.Select(key, value, Gen.Int[0, 300], (k, v, n) => new Op(OpKind.BatchRemove, k, v, n))),
            (2, keyValue(OpKind.RefOrAdd)),
            (1, keyed(OpKind.RefOrNull)));
    }

    /// <summary>
    /// Scenarios: a key space, a capacity hint (mostly 0), a random or fixed seed, and up to
    /// <paramref name="maxOps"/> operations.
    /// </summary>
    public static Gen<Scenario> Scenarios(int maxOps = 60, bool allowFixedSeed = true) =>
        Gen.Select(
            Gen.Int[0, KeySpaces.Length - 1],
            Gen.Frequency((4, Gen.Const(0)), (1, Gen.Int[1, 2000])),
            allowFixedSeed ? Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true))) : Gen.Const(false),
            Gen.UInt)
        .SelectMany((ks, cap, fixedSeed, hash0) =>
            Operation(KeySpaces[ks]).Array[1, maxOps].Select(ops => new Scenario(cap, fixedSeed ? hash0 : null, ops)));

    /// <summary>
    /// Runs <paramref name="iterations"/> scenarios drawn from the test's seed (scenario i from
    /// PCG(seed, i), so a seed replays the same sequences), on every core. On the first failure, hands
    /// that scenario's CsCheck seed to <see cref="Check.Sample{T}(Gen{T}, Action{T}, Action{string}?, string?, long, int, int, Func{T, string}?, ISampleLogger?)"/>,
    /// which replays it and shrinks it to a minimal failing scenario, reported as C#.
    /// </summary>
    public static long SampleSeeded(string name, Gen<Scenario> gen, Action<Scenario> run, int iterations)
    {
        int seed = TestSeed.Next(name);
        Exception? failure = null;
        string? failingSeed = null;
        long tried = 0;
        Parallel.For(0, iterations, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (i, state) =>
        {
            var pcg = new PCG((uint)seed, (ulong)i);
            string pcgSeed = pcg.ToString();
            Scenario s = gen.Generate(pcg, null, out _);
            try
            {
                run(s);
                Interlocked.Increment(ref tried);
            }
            catch (Exception e)
            {
                lock (gen)
                {
                    if (failure is null)
                    {
                        failure = e;
                        failingSeed = pcgSeed;
                    }
                }
                state.Stop();
            }
        });
        if (failure is not null)
        {
            TestContext.Out.WriteLine($"{name}: scenario with CsCheck seed {failingSeed} failed after {tried} passed:\n{failure}\nshrinking...");
            Check.Sample(gen, run, writeLine: TestContext.Out.WriteLine, seed: failingSeed, iter: 4000, print: s => s.ToString());
            Assert.Fail($"the failing scenario (CsCheck seed {failingSeed}) passed on replay, so the failure depends on randomness outside the scenario (iteration start, hash secrets): {failure}");
        }
        TestContext.Out.WriteLine($"{name}: {tried} sequences passed");
        return tried;
    }
}
