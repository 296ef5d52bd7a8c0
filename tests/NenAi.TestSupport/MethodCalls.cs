using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;

namespace NenAi.TestSupport
{
    /// <summary>
    /// The methods a type's code calls, read from its IL (its nested types, lambdas and local functions included), so a
    /// test can say "this class never calls that API" of a build it cannot run (the net472 one shares the source, and
    /// loaded into a load context of its own its IL is read as it is). A call whose target this runtime cannot resolve
    /// (a .NET Framework-only member) is left out: a test names the calls it looks for and checks the scan sees one.
    /// </summary>
    public static class MethodCalls
    {
        private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(o => o.Value);

        /// <summary>Every method or constructor called (call, callvirt, newobj, ldftn) by the code of <paramref name="type"/>, as "Type.Name (in Caller)".</summary>
        public static IEnumerable<(MethodBase Called, string Caller)> Of(Type type)
        {
            var types = new Queue<Type>(new[] { type });
            while (types.Count > 0)
            {
                Type t = types.Dequeue();
                foreach (Type nested in t.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic)) types.Enqueue(nested);
                const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
                foreach (MethodBase method in t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
                {
                    byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
                    if (il is null) continue;
                    foreach (MethodBase called in Calls(method, il)) yield return (called, $"{t.Name}.{method.Name}");
                }
            }
        }

        private static IEnumerable<MethodBase> Calls(MethodBase method, byte[] il)
        {
            int at = 0;
            while (at < il.Length)
            {
                short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
                at += il[at] == 0xFE ? 2 : 1;
                OpCode op = OpCodesByValue[value];
                int size = OperandSize(op, il, at);
                if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj || op == OpCodes.Ldftn)
                {
                    int token = BitConverter.ToInt32(il, at);
                    Type[]? typeArgs = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
                    Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
                    MethodBase? called = null;
                    try { called = method.Module.ResolveMethod(token, typeArgs, methodArgs); }
                    catch (Exception ex) when (ex is ArgumentException || ex is TypeLoadException || ex is MissingMemberException || ex is System.IO.FileNotFoundException || ex is System.IO.FileLoadException || ex is BadImageFormatException) { }
                    if (called != null) yield return called;
                }
                at += size;
            }
        }

        private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
        {
            OperandType.InlineNone => 0,
            OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
            OperandType.InlineVar => 2,
            OperandType.InlineI8 or OperandType.InlineR => 8,
            OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
            _ => 4,
        };
    }
}
