using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.ModelBased;

/// <summary>
/// Scenarios kept from model-based runs (shrunk by CsCheck, pasted as printed) and hand-written
/// sequences for the corners the generator reaches rarely. Each one replays exactly.
/// </summary>
[TestFixture]
[Category("Model")]
public sealed class ModelRegressionTests : LeakCheckedTest
{
    private static readonly MapModelChecker<long, long, DefaultKeyHasher<long>> LongLong = new(k => k, v => v);
    private static readonly MapModelChecker<long, long, CollidingHasher> Colliding = new(k => k, v => v);

    /// <summary>Growth three times inside one foreach while removing and overwriting.</summary>
    [Test]
    public void Foreach_GrowsThreeTimes_WhileRemovingAndOverwriting() => LongLong.Run(new Scenario(0, null, [
        new(OpKind.BulkSet, 0, 0, 60),
        new(OpKind.Foreach, Steps: [
            new(IterAction.AddMany, 1000, 1, 300),
            new(IterAction.RemoveOther, 7, 0, 0),
            new(IterAction.OverwriteOther, 3, 99, 0),
            new(IterAction.AddMany, 2000, 2, 300),
            new(IterAction.RemoveCurrent, 0, 0, 0),
            new(IterAction.AddMany, 3000, 3, 600),
            new(IterAction.ReAddCurrent, 0, 5, 0)]),
        new(OpKind.Count)]));

    /// <summary>Clear inside a foreach that started during a growth, then refill inside the same loop.</summary>
    [Test]
    public void Foreach_ClearMidGrowth_ThenRefill() => LongLong.Run(new Scenario(0, null, [
        new(OpKind.BulkSet, 0, 0, 53),
        new(OpKind.Set, 100, 1),
        new(OpKind.Foreach, Steps: [
            new(IterAction.None, 0, 0, 0),
            new(IterAction.Clear, 0, 0, 0),
            new(IterAction.AddMany, 500, 7, 100)]),
        new(OpKind.Foreach, Steps: [new(IterAction.RemoveCurrent, 0, 0, 0), new(IterAction.RemoveCurrent, 0, 0, 0)])]));

    /// <summary>One chain of 400 colliding keys: delete from the middle and the end, then refill (emptyRest walk-back across overflow buckets).</summary>
    [Test]
    public void CollidingChain_DeleteMiddleAndTail_Refill() => Colliding.Run(new Scenario(0, 7u, [
        new(OpKind.BulkSet, 0, 0, 400),
        new(OpKind.BulkRemove, 100, 0, 200),
        new(OpKind.BulkRemove, 300, 0, 100),
        new(OpKind.BulkSet, 50, 1, 300),
        new(OpKind.Foreach, Steps: [new(IterAction.RemoveCurrent, 0, 0, 0), new(IterAction.AddMany, 1000, 0, 100)]),
        new(OpKind.EnsureCapacity, Arg: 3000),
        new(OpKind.BulkSet, 2000, 0, 200)]));

    /// <summary>
    /// Shrunk by CsCheck (from 30 operations) when the X/Y split of evacuation was broken on purpose in
    /// a scratch copy of the library (mutation check, see docs/reliability.md): two bulk inserts
    /// through two doublings, then a remove and an overwrite of the same key.
    /// </summary>
    [Test]
    public void Shrunk_EvacuationSplit_BulkInsertsThroughTwoDoublings() => LongLong.Run(new Scenario(0, null, [
        new(OpKind.Count, 0, 0, 0),
        new(OpKind.Remove, 0, 0, 0),
        new(OpKind.BulkSet, 1, 95, 80),
        new(OpKind.BulkSet, 1, -150, 233),
        new(OpKind.Remove, 1, 0, 0),
        new(OpKind.Set, 1, -771, 0)]));
}
