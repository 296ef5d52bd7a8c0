#Requires -Version 7.4
# The headline pipeline against tests/fakes/fake_nen.py, an independent fake of the Nen API written from the spec in
# Python's standard library (no code shared with the module or the emulator). The failure-mode suites use the same
# fake; this one proves it serves a healthy batch end to end, so their findings are about the module.

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'NenAi.psd1') -Force
    $script:fake = Start-FakeNen -ArgumentList '--files', '3', '--file-size', '4096'
    $script:connection = @{ BaseUri = $script:fake.BaseUri; ApiKey = $script:fake.ApiKey; NoProgress = $true }
}

AfterAll {
    Stop-FakeNen $script:fake
    Remove-Module NenAi -ErrorAction SilentlyContinue
}

Describe 'The independent fake Nen server' {
    It 'runs Import-Csv | Start-NenRun | Wait-NenRun | Get-NenRunResult end to end, every file once' {
        $csv = Join-Path $TestDrive 'rows.csv'
        1..5 | ForEach-Object { [pscustomobject]@{ JobId = "J$_"; NAME = "row $_" } } | Export-Csv -LiteralPath $csv -NoTypeInformation
        $out = Join-Path $TestDrive 'out'
        $c = $script:connection

        $files = Import-Csv -LiteralPath $csv |
            Start-NenRun @c -WorkflowId '11111111-1111-1111-1111-111111111111' -KeyProperty JobId -ExcludeProperty JobId |
            Wait-NenRun @c -PollIntervalSec 0.2 |
            Get-NenRunResult @c -Destination $out

        $ledger = Get-FakeNenLedger $script:fake
        @($ledger.runs).Count | Should -Be 5
        @($ledger.runs | Group-Object { $_.params.NAME } | Where-Object Count -NE 1) | Should -BeNullOrEmpty
        @($files).Count | Should -Be 15
        @($files | Where-Object { (Get-Item -LiteralPath $_.FullName).Length -ne 4096 }) | Should -BeNullOrEmpty
        $ledger.requests.files | Should -Be 15
    }
}
