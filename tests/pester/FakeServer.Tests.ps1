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

Describe 'Debug lines in a task, as README.md says' {
    # README ("Configuration and errors") and about_NenAi: $DebugPreference = 'Continue' shows the debug lines where
    # nobody can answer a prompt, and -Debug there fails at its first prompt (PowerShell's own doing for a compiled
    # cmdlet: a prompt before every verbose and warning line). Both are run in a pwsh -NonInteractive of their own.
    It 'shows them with $DebugPreference = Continue; -Debug fails at its prompt' {
        $script = Join-Path $TestDrive 'debug.ps1'
        Set-Content -LiteralPath $script -Encoding utf8 -Value @"
param([string] `$How)
`$PSStyle.OutputRendering = 'PlainText'
Import-Module '$(Join-Path $script:root 'NenAi.psd1')'
`$c = @{ NoProgress = `$true; WorkflowId = '11111111-1111-1111-1111-111111111111' }
if (`$How -eq 'preference') { `$DebugPreference = 'Continue'; `$r = [pscustomobject]@{ NAME = 'a' } | Start-NenRun @c -Verbose }
else { `$r = [pscustomobject]@{ NAME = 'a' } | Start-NenRun @c -Debug }
"runs: `$(@(`$r | Where-Object MessageId).Count)"
"@
        $environment = @{ NEN_BASE_URL = $script:fake.BaseUri; NEN_API_KEY = $script:fake.ApiKeyText; NEN_SIGNING_KEY = $null }
        $quiet = Invoke-FreshPwsh -File $script -ArgumentList 'preference' -Environment $environment -TimeoutSec 120
        $shown = $quiet.Output + $quiet.Errors
        $shown | Should -Match 'DEBUG: POST .*/runs \(row 1\)'
        $shown | Should -Match 'VERBOSE: POST'
        $quiet.Output | Should -Match 'runs: 1'
        $quiet.Output + $quiet.Errors | Should -Not -Match 'NonInteractive mode'
        $quiet.Output + $quiet.Errors | Should -Not -Match ([regex]::Escape($script:fake.ApiKeyText))

        $prompted = Invoke-FreshPwsh -File $script -ArgumentList 'switch' -Environment $environment -TimeoutSec 120
        $prompted.Output + $prompted.Errors | Should -Match 'PowerShell is in NonInteractive mode'
    }
}
