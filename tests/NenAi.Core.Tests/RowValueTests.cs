using System;
using System.Collections;
using System.Collections.Generic;
using System.Numerics;
using System.Text;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>Issue 17: every value is sent faithfully or refused as that row's error, with or without a journal.</summary>
    public class RowValueTests
    {
        private static string Body(params (string, object?)[] parameters)
        {
            var request = new RunRequest(TestEmulator.EchoWorkflow);
            foreach (var p in Requests.Cells(parameters)) request.Parameters.Add(p);
            using ZeroingBufferWriter body = RunRequestSerializer.Serialize(request);
            using JsonDocument doc = JsonDocument.Parse(body.WrittenSegment);
            return doc.RootElement.GetProperty("workflow_params").GetRawText();
        }

        private static RunRequestFactory Factory(bool keyed) =>
            new RunRequestFactory(new RowMapper(excludedColumns: new[] { "WorkflowId" }), keyed: keyed);

        [Fact]
        public void NestedDictionariesListsAndEnumerablesAreSentAsJsonObjectsAndArraysWithNumbersAndBooleansByType()
        {
            var inner = new Dictionary<string, object?> { ["City"] = "Paris" };
            var list = new List<object?> { 1, new Hashtable { ["a"] = 1L } };
            string json = Body(("Inner", inner), ("List", list), ("Range", System.Linq.Enumerable.Range(1, 3)), ("Flag", true),
                ("Big", BigInteger.Parse("123456789012345678901234567890")), ("Money", 12.50m), ("Ratio", 0.25f), ("When", new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc)));

            Assert.Equal("{\"Inner\":{\"City\":\"Paris\"},\"List\":[1,{\"a\":1}],\"Range\":[1,2,3],\"Flag\":true,\"Big\":123456789012345678901234567890,\"Money\":12.50,\"Ratio\":0.25,\"When\":\"2025-01-02T03:04:05.0000000Z\"}", json);
        }

        [Theory]
        [InlineData(double.NaN, "NaN")]
        [InlineData(double.PositiveInfinity, "Infinity")]
        [InlineData(double.NegativeInfinity, "-Infinity")]
        public void NaNAndInfinityAreOneRowErrorWithOrWithoutAJournal(double value, string shown)
        {
            foreach (bool keyed in new[] { false, true })
            {
                var ex = Assert.Throws<NenException>(() => Factory(keyed).Create(TestEmulator.EchoWorkflow, Requests.Cells(("NAME", "x"), ("AMOUNT", value)), null, null));
                Assert.Equal(NenErrorIds.InvalidParameterValue, ex.ErrorId);
                Assert.Equal(NenErrorCategory.InvalidData, ex.Category);
                Assert.Contains("'AMOUNT'", ex.Message);
                Assert.Contains(shown, ex.Message);
            }
        }

        [Fact]
        public void ALoneSurrogateAnywhereIsOneRowErrorThatSaysWhere()
        {
            var nested = new Dictionary<string, object?> { ["List"] = new List<object?> { "ok", "bad \ud800" } };
            foreach (bool keyed in new[] { false, true })
            {
                var ex = Assert.Throws<NenException>(() => Factory(keyed).Create(TestEmulator.EchoWorkflow, Requests.Cells(("Outer", nested)), null, null));
                Assert.Equal(NenErrorIds.InvalidParameterValue, ex.ErrorId);
                Assert.Contains("'Outer.List[1]'", ex.Message);
                Assert.Contains("lone surrogate", ex.Message);
            }
        }

        [Fact]
        public void AValueWithNoJsonFormIsRefusedNotSentAsItsToString()
        {
            var ex = Assert.Throws<NenException>(() => Body(("File", new System.IO.FileInfo("x.txt"))));
            Assert.Equal(NenErrorIds.InvalidParameterValue, ex.ErrorId);
            Assert.Contains("System.IO.FileInfo", ex.Message);

            using var secret = new System.Security.SecureString();
            ex = Assert.Throws<NenException>(() => Body(("Password", secret)));
            Assert.Contains("-SecureParameter", ex.Message);
        }

        [Fact]
        public void AStructureThatRefersToItselfIsRefusedNotFollowedForEver()
        {
            var loop = new List<object?>();
            loop.Add(loop);
            var ex = Assert.Throws<NenException>(() => Body(("Loop", loop)));
            Assert.Contains("deeper than", ex.Message);
        }

        [Fact]
        public void TheRowHashIgnoresTheOrderOfNestedMembersToo()
        {
            // Hashtable order follows string hash codes, which differ from one process to the next.
            var a = new Dictionary<string, object?> { ["x"] = 1, ["y"] = new Dictionary<string, object?> { ["p"] = "1", ["q"] = "2" } };
            var b = new Dictionary<string, object?> { ["y"] = new Dictionary<string, object?> { ["q"] = "2", ["p"] = "1" }, ["x"] = 1 };
            Assert.Equal(RowKey.Hash(TestEmulator.EchoWorkflow, Requests.Cells(("Data", a))), RowKey.Hash(TestEmulator.EchoWorkflow, Requests.Cells(("Data", b))));
        }

        [Fact]
        public void AHashtableRowsWorkflowIdRoutesItAndIsNotSent()
        {
            string other = TestEmulator.FilesWorkflow;
            RunRequest routed = Factory(false).Create(null, Requests.Cells(("WorkflowId", other), ("NAME", "x")), null, null);
            RunRequest agreeing = Factory(false).Create(TestEmulator.EchoWorkflow, Requests.Cells(("WorkflowId", TestEmulator.EchoWorkflow), ("NAME", "x")), null, null);

            Assert.Equal(other, routed.WorkflowId);
            Assert.DoesNotContain(routed.Parameters, p => p.Key == "WorkflowId");
            Assert.DoesNotContain(agreeing.Parameters, p => p.Key == "WorkflowId");
            // A key that names another workflow than the command's is refused, never sent to the command's in silence.
            var refused = Assert.Throws<NenAi.Core.Errors.NenException>(() => Factory(false).Create(TestEmulator.EchoWorkflow, Requests.Cells(("WorkflowId", other), ("NAME", "x")), null, null));
            Assert.Equal(NenAi.Core.Errors.NenErrorIds.InvalidWorkflowId, refused.ErrorId);
        }

        [Fact]
        public void WhatIsNotARowIsThatInputsError()
        {
            RunRequestFactory factory = Factory(false);
            Assert.Contains("null", Assert.Throws<NenException>(() => factory.Create(TestEmulator.EchoWorkflow, RowInput.Null, null, null)).Message);
            Assert.Contains("is a run", Assert.Throws<NenException>(() => factory.Create(TestEmulator.EchoWorkflow, RowInput.Run("abc"), null, null)).Message);
            Assert.Contains("not a row", Assert.Throws<NenException>(() => factory.Create(TestEmulator.EchoWorkflow, RowInput.Value("42"), null, null)).Message);
            var saved = RowInput.Of(Requests.Cells(("MessageId", Guid.NewGuid().ToString()), ("Status", "Accepted"), ("NAME", "x")));
            Assert.Contains("looks like a run", Assert.Throws<NenException>(() => factory.Create(TestEmulator.EchoWorkflow, saved, null, null)).Message);
            // A command that names its columns decides about MessageId itself.
            var chosen = new RunRequestFactory(new RowMapper(excludedColumns: new[] { "WorkflowId", "MessageId", "Status" }));
            Assert.Single(chosen.Create(TestEmulator.EchoWorkflow, saved, null, null).Parameters);
            Assert.Empty(factory.Create(TestEmulator.EchoWorkflow, RowInput.None, null, null).Parameters);
        }
    }
}
