using System;
using System.IO;
using System.Linq;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// The cmdlets of the net472 build (the DLL Windows PowerShell 5.1 loads, its IL read here) hand no name to a .NET
    /// Framework Path method that checks characters or length: there Path.Combine, GetFileName, GetExtension,
    /// GetDirectoryName, IsPathRooted and GetFullPath throw ArgumentException for '"', '&lt;', '&gt;', '|' or a control
    /// character (mscorlib path.cs CheckInvalidPathChars, 1388-1395) and GetFullPath PathTooLongException, which no
    /// command maps: a raw exception out of ProcessRecord stops the whole batch. Names and paths go through the core
    /// (SafeFileName, PathLimit), which checks them first and says NenUnsafeFileName / NenPathTooLong for that item.
    /// </summary>
    public sealed class FrameworkPathCallTests
    {
        private static readonly string[] Throwing =
        {
            nameof(Path.Combine), nameof(Path.GetFullPath), nameof(Path.IsPathRooted), nameof(Path.GetFileName),
            nameof(Path.GetFileNameWithoutExtension), nameof(Path.GetExtension), nameof(Path.HasExtension),
            nameof(Path.ChangeExtension), nameof(Path.GetDirectoryName), nameof(Path.GetPathRoot),
        };

        [Fact]
        public void NoNet472CmdletPassesANameToAFrameworkPathMethodThatThrows()
        {
            var build = new Net472Build();
            Type[] commands = build.Cmdlets.GetTypes().Where(t => !t.IsNested && t.Namespace == "NenAi.Commands").ToArray();

            var calls = commands.SelectMany(MethodCalls.Of)
                .Where(c => c.Called.DeclaringType == typeof(Path) && Throwing.Contains(c.Called.Name))
                .Select(c => $"{c.Caller} calls Path.{c.Called.Name}")
                .ToList();

            // Before: Get-NenRunResult built its -WhatIf text with Path.Combine(destination, message id) for every run,
            // so on 5.1 a message id holding '|' (a CSV row's MessageId, or the service's) threw ArgumentException and
            // ended the batch, before the download could refuse that run alone as NenUnsafeFileName.
            Assert.Contains(commands, t => t.Name == "GetNenRunResultCommand");
            Assert.Empty(calls);
            // The scan reads the net472 IL and sees such calls where they are (the module's own folder, from Location).
            Type init = build.Cmdlets.GetType("NenAi.ModuleInitAndCleanup", throwOnError: true)!;
            Assert.Contains(MethodCalls.Of(init), c => c.Called.DeclaringType == typeof(Path) && c.Called.Name == nameof(Path.GetDirectoryName));
        }
    }
}
