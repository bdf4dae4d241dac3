using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Conformance;

public abstract class NativeMapConformanceTests<TKey, TValue> : MapConformanceTests<TKey, TValue>
    where TKey : unmanaged, IEquatable<TKey>
    where TValue : unmanaged
{
    protected override IDictionary<TKey, TValue> CreateMap(int capacityHint) => new NativeMap<TKey, TValue>(capacityHint);

    protected override bool AddDuringEnumerationAllowed => true;

    protected override void Validate(IDictionary<TKey, TValue> map) => ((NativeMap<TKey, TValue>)map).CheckInvariants();
}

[TestFixture]
public sealed class NativeMap_Int32_Int64 : NativeMapConformanceTests<int, long>
{
    protected override int CreateKey(int seed) => seed * 7919;

    protected override long CreateValue(int seed) => seed * 3L + 1;
}

[TestFixture]
public sealed class NativeMap_Int64_Int64 : NativeMapConformanceTests<long, long>
{
    protected override long CreateKey(int seed) => (long)new SplitMix64((ulong)seed).Next();

    protected override long CreateValue(int seed) => -seed;
}

[TestFixture]
public sealed class NativeMap_Key16_Int64 : NativeMapConformanceTests<Key16, long>
{
    protected override Key16 CreateKey(int seed) => new(seed, seed ^ 0x5555);

    protected override long CreateValue(int seed) => seed;
}

[TestFixture]
public sealed class NativeMap_Big200_Big320 : NativeMapConformanceTests<Big200, Big320>
{
    protected override Big200 CreateKey(int seed) => new(seed);

    protected override Big320 CreateValue(int seed) => new(seed);
}

[TestFixture]
public sealed class NativeMap_Double_Int64 : NativeMapConformanceTests<double, long>
{
    protected override double CreateKey(int seed) => seed * 0.5 - 1000;

    protected override long CreateValue(int seed) => seed;
}

/// <summary>The suite against the BCL: proves the tests themselves are right.</summary>
[TestFixture]
public sealed class Dictionary_Reference_Int64_Int64 : MapConformanceTests<long, long>
{
    protected override IDictionary<long, long> CreateMap(int capacityHint) => new Dictionary<long, long>(capacityHint);

    protected override long CreateKey(int seed) => (long)new SplitMix64((ulong)seed).Next();

    protected override long CreateValue(int seed) => -seed;

    protected override bool AddDuringEnumerationAllowed => false;
}

/// <summary>The suite against the BCL with the large key and value types.</summary>
[TestFixture]
public sealed class Dictionary_Reference_Big200_Big320 : MapConformanceTests<Big200, Big320>
{
    protected override IDictionary<Big200, Big320> CreateMap(int capacityHint) => new Dictionary<Big200, Big320>(capacityHint);

    protected override Big200 CreateKey(int seed) => new(seed);

    protected override Big320 CreateValue(int seed) => new(seed);

    protected override bool AddDuringEnumerationAllowed => false;
}
