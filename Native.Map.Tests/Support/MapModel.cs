using System.Text;

namespace Native.Map.Tests.Support;

/// <summary>Operations of a model-based sequence: every public operation of the map.</summary>
public enum OpKind : byte
{
    Set,
    Get,
    Add,
    TryAdd,
    TryGetValue,
    GetValueOrDefault,
    ContainsKey,
    Remove,
    RemoveOut,
    Clear,
    EnsureCapacity,
    Count,
    Foreach,
    Keys,
    Values,
    BulkSet,
    BulkRemove,
    PairContains,
    PairRemove,
    ContainsValue,
    /// <summary><c>TryGetValues</c> of Arg keys from Key on (hits and misses); Value's low bit picks the prefetching pipeline or the key-by-key path.</summary>
    BatchGet,
    /// <summary><c>SetValues</c> of Arg keys from Key on, values from Value on.</summary>
    BatchSet,
    /// <summary><c>NativeMapMarshal.GetValueRefOrAddDefault</c>, then the value written through the ref.</summary>
    RefOrAdd,
    /// <summary><c>NativeMapMarshal.GetValueRefOrNullRef</c>.</summary>
    RefOrNull,
    /// <summary><c>RemoveKeys</c> of Arg keys from Key on, every seventh repeating the key three before it; Value's low two bits pick the overload (plain, reporting each key, also returning the values).</summary>
    BatchRemove,
}

/// <summary>What a <c>foreach</c> step does to the map after an entry is returned.</summary>
public enum IterAction : byte
{
    None,
    RemoveCurrent,
    RemoveOther,
    AddNew,
    AddMany,
    OverwriteCurrent,
    OverwriteOther,
    ReAddCurrent,
    Clear,
    Break,
}

/// <summary>One mutation inside a <c>foreach</c>: applied after the step-th entry is returned.</summary>
public readonly record struct IterStep(IterAction Action, int Key, long Value, int Count)
{
    public override string ToString() => $"new(IterAction.{Action}, {Key}, {Value}, {Count})";
}

/// <summary>One operation; <see cref="Key"/> indexes the key space, <see cref="Arg"/> is a count or capacity.</summary>
public sealed record Op(OpKind Kind, int Key = 0, long Value = 0, int Arg = 0, IterStep[]? Steps = null)
{
    public override string ToString() =>
        Steps is null
            ? $"new(OpKind.{Kind}, {Key}, {Value}, {Arg})"
            : $"new(OpKind.{Kind}, {Key}, {Value}, {Arg}, [{string.Join(", ", Steps)}])";
}

/// <summary>A map configuration and a sequence of operations; prints as C# so a failure can be pasted into a regression test.</summary>
public sealed record Scenario(int Capacity, uint? FixedHash0, Op[] Ops)
{
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("new Scenario(").Append(Capacity).Append(", ").Append(FixedHash0 is uint h ? h + "u" : "null").Append(", [");
        for (int i = 0; i < Ops.Length; i++)
        {
            sb.Append(i == 0 ? "\n    " : ",\n    ").Append(Ops[i]);
        }
        return sb.Append("])").ToString();
    }
}

/// <summary>Thrown when the map and the model disagree.</summary>
public sealed class ModelMismatchException(string message) : Exception(message);

/// <summary>
/// Runs a <see cref="Scenario"/> against a <see cref="NativeMap{TKey, TValue, THasher}"/> and a
/// <see cref="Dictionary{TKey, TValue}"/> side by side: every result is compared, the invariant checker
/// runs after every operation (and after every mutation inside a <c>foreach</c>) while the map is
/// small, contents are compared in full after each <c>foreach</c> and at the end, and the map's
/// allocator must end with nothing live and no contract violation.
/// </summary>
/// <remarks>
/// Iteration is checked against Go's rules: a returned entry is in the map with that value at the
/// moment it is returned (so nothing removed before being reached comes back, and updates are seen);
/// every entry present at the start and neither removed nor added during the loop is returned exactly
/// once. No NUnit or CsCheck dependency: the stress host runs this too.
/// </remarks>
internal sealed class MapModelChecker<TKey, TValue, THasher>(Func<int, TKey> makeKey, Func<long, TValue> makeValue, Func<Native.Map.Memory.NativeAllocator?>? allocatorFactory = null)
    where TKey : unmanaged, IEquatable<TKey>
    where TValue : unmanaged
    where THasher : struct, IKeyHasher<TKey>
{
    private static readonly EqualityComparer<TValue> ValueEq = EqualityComparer<TValue>.Default;

    private long _operations;

    /// <summary>Invariant checks run only while the map holds at most this many entries.</summary>
    public int InvariantCheckLimit { get; init; } = 4096;

    /// <summary>Operations executed so far (foreach steps included), across threads.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    public void Run(Scenario scenario)
    {
        var tracker = allocatorFactory is null ? new TrackingAllocator() : null;
        Native.Map.Memory.NativeAllocator? allocator = tracker ?? allocatorFactory!();
        var map = new NativeMap<TKey, TValue, THasher>(scenario.Capacity, allocator, scenario.FixedHash0);
        var model = new Dictionary<TKey, TValue>();
        long ops = 0;
        try
        {
            for (int i = 0; i < scenario.Ops.Length; i++)
            {
                Apply(map, model, scenario.Ops[i], i, ref ops);
                ops++;
                if (map.Count != model.Count)
                {
                    Fail(i, scenario.Ops[i], $"Count {map.Count}, model {model.Count}");
                }
                CheckInvariants(map, i, scenario.Ops[i]);
            }
            CompareContents(map, model, scenario.Ops.Length, null);
        }
        finally
        {
            map.Dispose();
            Interlocked.Add(ref _operations, ops);
        }
        tracker?.AssertClean();
    }

    private void CheckInvariants(NativeMap<TKey, TValue, THasher> map, int index, Op op)
    {
        if (map.Count <= InvariantCheckLimit)
        {
            try
            {
                map.CheckInvariants();
            }
            catch (InvalidOperationException e)
            {
                Fail(index, op, e.Message);
            }
        }
    }

    private void Apply(NativeMap<TKey, TValue, THasher> map, Dictionary<TKey, TValue> model, Op op, int index, ref long ops)
    {
        TKey k = makeKey(op.Key);
        TValue v = makeValue(op.Value);
        switch (op.Kind)
        {
            case OpKind.Set:
                map[k] = v;
                model[k] = v;
                break;
            case OpKind.Get:
                if (model.TryGetValue(k, out TValue expected))
                {
                    Same(index, op, map[k], expected, "indexer get");
                }
                else
                {
                    Expect<KeyNotFoundException>(index, op, () => _ = map[k]);
                }
                break;
            case OpKind.Add:
                if (model.TryGetValue(k, out TValue old))
                {
                    Expect<ArgumentException>(index, op, () => map.Add(k, v));
                    Same(index, op, map[k], old, "value after a duplicate Add");
                }
                else
                {
                    map.Add(k, v);
                    model.Add(k, v);
                }
                break;
            case OpKind.TryAdd:
                Same(index, op, map.TryAdd(k, v), model.TryAdd(k, v), "TryAdd result");
                break;
            case OpKind.TryGetValue:
            {
                bool found = map.TryGetValue(k, out TValue got);
                Same(index, op, found, model.TryGetValue(k, out TValue want), "TryGetValue result");
                Same(index, op, got, want, found ? "TryGetValue value" : "TryGetValue value on a miss (must be default)");
                break;
            }
            case OpKind.GetValueOrDefault:
                Same(index, op, map.GetValueOrDefault(k), model.GetValueOrDefault(k), "GetValueOrDefault");
                break;
            case OpKind.ContainsKey:
                Same(index, op, map.ContainsKey(k), model.ContainsKey(k), "ContainsKey");
                break;
            case OpKind.Remove:
                Same(index, op, map.Remove(k), model.Remove(k), "Remove result");
                break;
            case OpKind.RemoveOut:
            {
                bool removed = map.Remove(k, out TValue got);
                Same(index, op, removed, model.Remove(k, out TValue want), "Remove(out) result");
                Same(index, op, got, want, "Remove(out) value");
                break;
            }
            case OpKind.Clear:
                map.Clear();
                model.Clear();
                break;
            case OpKind.EnsureCapacity:
                if (op.Arg < 0)
                {
                    Expect<ArgumentOutOfRangeException>(index, op, () => map.EnsureCapacity(op.Arg));
                }
                else
                {
                    int cap = map.EnsureCapacity(op.Arg);
                    if (cap < op.Arg || map.Capacity < op.Arg)
                    {
                        Fail(index, op, $"EnsureCapacity({op.Arg}) returned {cap}, Capacity {map.Capacity}");
                    }
                }
                break;
            case OpKind.Count:
                Same(index, op, map.Count, model.Count, "Count");
                Same(index, op, map.Keys.Count, model.Count, "Keys.Count");
                Same(index, op, map.Values.Count, model.Count, "Values.Count");
                break;
            case OpKind.Foreach:
                RunForeach(map, model, op, index, ref ops);
                break;
            case OpKind.Keys:
                SameMultiset(index, op, map.Keys, model.Keys, EqualityComparer<TKey>.Default, "Keys");
                break;
            case OpKind.Values:
                SameMultiset(index, op, map.Values, model.Values, ValueEq, "Values");
                break;
            case OpKind.BulkSet:
                for (int j = 0; j < op.Arg; j++)
                {
                    TKey bk = makeKey(op.Key + j);
                    TValue bv = makeValue(op.Value + j);
                    map[bk] = bv;
                    model[bk] = bv;
                }
                break;
            case OpKind.BulkRemove:
                for (int j = 0; j < op.Arg; j++)
                {
                    TKey bk = makeKey(op.Key + j);
                    Same(index, op, map.Remove(bk), model.Remove(bk), $"bulk Remove of key {op.Key + j}");
                }
                break;
            case OpKind.BatchGet:
            {
                var keys = new TKey[op.Arg];
                for (int j = 0; j < keys.Length; j++)
                {
                    keys[j] = makeKey(op.Key + (j * 3));
                }
                var values = new TValue[keys.Length + 1];
                var found = new bool[keys.Length + 1];
                values[^1] = v;
                map._pipelinedLookupMinBytes = (op.Value & 1) == 0 ? 0 : ulong.MaxValue;
                int hits = map.TryGetValues(keys, values, found);
                int want = 0;
                for (int j = 0; j < keys.Length; j++)
                {
                    bool present = model.TryGetValue(keys[j], out TValue mv);
                    want += present ? 1 : 0;
                    Same(index, op, found[j], present, $"TryGetValues found[{j}] (key {op.Key + (j * 3)})");
                    Same(index, op, values[j], present ? mv : default, $"TryGetValues values[{j}] (key {op.Key + (j * 3)})");
                }
                Same(index, op, hits, want, "TryGetValues hit count");
                Same(index, op, values[^1], v, "TryGetValues wrote past its keys");
                break;
            }
            case OpKind.BatchSet:
            {
                var keys = new TKey[op.Arg];
                var values = new TValue[op.Arg];
                for (int j = 0; j < keys.Length; j++)
                {
                    keys[j] = makeKey(op.Key + j);
                    values[j] = makeValue(op.Value + j);
                }
                map.SetValues(keys, values);
                for (int j = 0; j < keys.Length; j++)
                {
                    model[keys[j]] = values[j];
                }
                break;
            }
            case OpKind.BatchRemove:
            {
                // Every seventh key repeats the one three before it.
                static int KeyIndex(Op op, int j) => op.Key + j - (j % 7 == 6 ? 3 : 0);
                var keys = new TKey[op.Arg];
                for (int j = 0; j < keys.Length; j++)
                {
                    keys[j] = makeKey(KeyIndex(op, j));
                }
                int overload = (int)(op.Value & 3) % 3;
                bool report = overload >= 1;
                var removed = new bool[keys.Length + 1];
                removed[^1] = true;
                var values = new TValue[keys.Length];
                int count = overload == 2 ? map.RemoveKeys(keys, values, removed) : report ? map.RemoveKeys(keys, removed) : map.RemoveKeys(keys);
                int want = 0;
                for (int j = 0; j < keys.Length; j++)
                {
                    bool present = model.Remove(keys[j], out TValue was);
                    want += present ? 1 : 0;
                    if (report)
                    {
                        Same(index, op, removed[j], present, $"RemoveKeys removed[{j}] (key {KeyIndex(op, j)})");
                    }
                    if (overload == 2)
                    {
                        Same(index, op, values[j], present ? was : default, $"RemoveKeys values[{j}] (key {KeyIndex(op, j)})");
                    }
                }
                Same(index, op, count, want, "RemoveKeys count");
                Same(index, op, removed[^1], true, "RemoveKeys wrote past its keys");
                break;
            }
            case OpKind.RefOrAdd:
            {
                ref TValue slot = ref NativeMapMarshal.GetValueRefOrAddDefault(map, k, out bool exists);
                Same(index, op, exists, model.TryGetValue(k, out TValue mv), "GetValueRefOrAddDefault exists");
                Same(index, op, slot, exists ? mv : default, "GetValueRefOrAddDefault value");
                slot = v;
                model[k] = v;
                break;
            }
            case OpKind.RefOrNull:
            {
                ref TValue slot = ref NativeMapMarshal.GetValueRefOrNullRef(map, k);
                bool present = model.TryGetValue(k, out TValue mv);
                Same(index, op, !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref slot), present, "GetValueRefOrNullRef found");
                if (present)
                {
                    Same(index, op, slot, mv, "GetValueRefOrNullRef value");
                }
                break;
            }
            case OpKind.PairContains:
            {
                TValue pv = (op.Arg & 1) != 0 && model.TryGetValue(k, out TValue cur) ? cur : v;
                bool want = model.TryGetValue(k, out TValue mv) && ValueEq.Equals(mv, pv);
                Same(index, op, ((ICollection<KeyValuePair<TKey, TValue>>)map).Contains(new(k, pv)), want, "ICollection.Contains");
                break;
            }
            case OpKind.PairRemove:
            {
                TValue pv = (op.Arg & 1) != 0 && model.TryGetValue(k, out TValue cur) ? cur : v;
                bool want = model.TryGetValue(k, out TValue mv) && ValueEq.Equals(mv, pv);
                Same(index, op, ((ICollection<KeyValuePair<TKey, TValue>>)map).Remove(new(k, pv)), want, "ICollection.Remove");
                if (want)
                {
                    model.Remove(k);
                }
                break;
            }
            case OpKind.ContainsValue:
            {
                TValue pv = (op.Arg & 1) != 0 && model.Count > 0 ? model.Values.ElementAt(op.Key % model.Count) : v;
                Same(index, op, map.ContainsValue(pv), model.ContainsValue(pv), "ContainsValue");
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "unknown operation");
        }
    }

    private void RunForeach(NativeMap<TKey, TValue, THasher> map, Dictionary<TKey, TValue> model, Op op, int index, ref long ops)
    {
        IterStep[] steps = op.Steps ?? [];
        var atStart = new HashSet<TKey>(model.Keys);
        var touched = new HashSet<TKey>();
        var seen = new Dictionary<TKey, int>();
        int step = 0;
        bool completed = true;
        foreach (KeyValuePair<TKey, TValue> kv in map)
        {
            if (!model.TryGetValue(kv.Key, out TValue live))
            {
                Fail(index, op, $"foreach step {step}: returned {kv.Key}, which is not in the map (removed before it was reached, or never added)");
            }
            if (!ValueEq.Equals(live, kv.Value))
            {
                Fail(index, op, $"foreach step {step}: returned {kv.Key} with a stale value {kv.Value} (current {live})");
            }
            int times = seen.GetValueOrDefault(kv.Key) + 1;
            seen[kv.Key] = times;
            if (times > 1 && !touched.Contains(kv.Key))
            {
                Fail(index, op, $"foreach step {step}: {kv.Key} returned {times} times though it was neither removed nor added");
            }
            IterStep s = step < steps.Length ? steps[step] : default;
            step++;
            ops++;
            if (s.Action == IterAction.Break)
            {
                completed = false;
                break;
            }
            ApplyStep(map, model, s, kv.Key, touched);
            if (s.Action != IterAction.None)
            {
                CheckInvariants(map, index, op);
                if (map.Count != model.Count)
                {
                    Fail(index, op, $"foreach step {step - 1} ({s}): Count {map.Count}, model {model.Count}");
                }
            }
        }
        if (completed)
        {
            foreach (TKey k in atStart)
            {
                if (!touched.Contains(k) && seen.GetValueOrDefault(k) != 1)
                {
                    Fail(index, op, $"foreach: {k} was in the map throughout and untouched, but returned {seen.GetValueOrDefault(k)} times");
                }
            }
        }
        CompareContents(map, model, index, op);
    }

    private void ApplyStep(NativeMap<TKey, TValue, THasher> map, Dictionary<TKey, TValue> model, IterStep s, TKey current, HashSet<TKey> touched)
    {
        switch (s.Action)
        {
            case IterAction.None:
                break;
            case IterAction.RemoveCurrent:
                Remove(current);
                break;
            case IterAction.RemoveOther:
                if (model.Count > 0)
                {
                    Remove(model.Keys.ElementAt(s.Key % model.Count));
                }
                break;
            case IterAction.AddNew:
                Set(makeKey(s.Key), makeValue(s.Value));
                break;
            case IterAction.AddMany:
                for (int j = 0; j < s.Count; j++)
                {
                    Set(makeKey(s.Key + j), makeValue(s.Value + j));
                }
                break;
            case IterAction.OverwriteCurrent:
                Set(current, makeValue(s.Value));
                break;
            case IterAction.OverwriteOther:
                if (model.Count > 0)
                {
                    Set(model.Keys.ElementAt(s.Key % model.Count), makeValue(s.Value));
                }
                break;
            case IterAction.ReAddCurrent:
                Remove(current);
                Set(current, makeValue(s.Value));
                break;
            case IterAction.Clear:
                touched.UnionWith(model.Keys);
                map.Clear();
                model.Clear();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(s), s.Action, "unknown step");
        }

        void Remove(TKey k)
        {
            bool had = model.Remove(k);
            if (map.Remove(k) != had)
            {
                throw new ModelMismatchException($"Remove({k}) inside foreach disagrees with the model (model had it: {had})");
            }
            touched.Add(k);
        }

        void Set(TKey k, TValue v)
        {
            if (!model.ContainsKey(k))
            {
                touched.Add(k);
            }
            model[k] = v;
            map[k] = v;
        }
    }

    private static void CompareContents(NativeMap<TKey, TValue, THasher> map, Dictionary<TKey, TValue> model, int index, Op? op)
    {
        if (map.Count != model.Count)
        {
            Fail(index, op, $"Count {map.Count}, model {model.Count}");
        }
        int n = 0;
        var returned = new HashSet<TKey>();
        foreach (KeyValuePair<TKey, TValue> kv in map)
        {
            n++;
            if (!returned.Add(kv.Key))
            {
                Fail(index, op, $"enumeration returned {kv.Key} twice");
            }
            if (!model.TryGetValue(kv.Key, out TValue v) || !ValueEq.Equals(v, kv.Value))
            {
                Fail(index, op, $"enumeration returned {kv.Key} => {kv.Value}, model has {(model.ContainsKey(kv.Key) ? model[kv.Key] : "nothing")}");
            }
        }
        if (n != model.Count)
        {
            Fail(index, op, $"enumeration returned {n} entries, model has {model.Count}");
        }
        foreach (KeyValuePair<TKey, TValue> kv in model)
        {
            if (!map.TryGetValue(kv.Key, out TValue v) || !ValueEq.Equals(v, kv.Value))
            {
                Fail(index, op, $"lookup of {kv.Key}: map has {v}, model {kv.Value}");
            }
        }
    }

    private static void SameMultiset<T>(int index, Op op, IEnumerable<T> actual, IEnumerable<T> expected, IEqualityComparer<T> eq, string what)
        where T : notnull
    {
        var counts = new Dictionary<T, int>(eq);
        int expectedCount = 0;
        foreach (T e in expected)
        {
            counts[e] = counts.GetValueOrDefault(e) + 1;
            expectedCount++;
        }
        int actualCount = 0;
        foreach (T a in actual)
        {
            actualCount++;
            if (!counts.TryGetValue(a, out int c) || c == 0)
            {
                Fail(index, op, $"{what}: unexpected or repeated {a}");
            }
            counts[a] = c - 1;
        }
        if (actualCount != expectedCount)
        {
            Fail(index, op, $"{what}: {actualCount} items, model has {expectedCount}");
        }
    }

    private static void Same<T>(int index, Op op, T actual, T expected, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected))
        {
            Fail(index, op, $"{what}: map gave {actual}, model {expected}");
        }
    }

    private static void Expect<TException>(int index, Op op, Action action)
        where TException : Exception
    {
        try
        {
            action();
        }
        catch (TException)
        {
            return;
        }
        Fail(index, op, $"expected {typeof(TException).Name}, nothing was thrown");
    }

    private static void Fail(int index, Op? op, string message) =>
        throw new ModelMismatchException($"op #{index} {op?.ToString() ?? "(end)"}: {message}");
}
