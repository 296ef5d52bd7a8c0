#Requires -Version 7.4
# Pester 5: the module loader as a locked-down Windows server meets it, in real pwsh. Constrained Language
# (what WDAC/AppLocker give an unsigned module; on Linux pwsh it is simulated by setting the session's
# language mode, which enforces the same rules), re-import, and the requirement checks (PowerShell 7.4,
# .NET Framework 4.7.2) driven with made-up versions.

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:manifest = Join-Path $script:root 'NenAi.psd1'
    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:echo = '11111111-1111-1111-1111-111111111111'

    # A fresh pwsh (this one, as installed: the dotnet tool or a pwsh executable) runs $Script and returns what it
    # wrote as JSON, plus its errors as text.
    function Invoke-FreshPwsh {
        param([string] $Script)
        $exe = (Get-Process -Id $PID).Path
        $prefix = @()
        if ((Split-Path $exe -Leaf) -match '^dotnet(\.exe)?$') { $prefix = @(Join-Path $PSHOME 'pwsh.dll') }
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($Script))
        $env:NEN_BASE_URL = $script:emulator.BaseUri
        $env:NEN_API_KEY = 'pester-api-key'
        $env:NEN_SIGNING_KEY = 'pester-signing-key'
        try {
            $lines = & $exe @prefix -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1
        }
        finally {
            Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY -ErrorAction SilentlyContinue
        }
        $text = ($lines | ForEach-Object { "$_" }) -join "`n"
        $json = $lines | Where-Object { "$_" -like 'RESULT:*' } | Select-Object -Last 1
        [pscustomobject]@{
            Result = if ($json) { "$json".Substring(7) | ConvertFrom-Json } else { $null }
            Text   = $text
        }
    }
}

AfterAll {
    Stop-EmulatorProcess $script:emulator
}

Describe 'NenAi.psm1 in Constrained Language' {
    It 'imports, re-imports and runs its cmdlets with the session in ConstrainedLanguage' {
        $run = Invoke-FreshPwsh @"
`$ExecutionContext.SessionState.LanguageMode = 'ConstrainedLanguage'
Import-Module '$script:manifest' -ErrorAction Stop
Import-Module '$script:manifest' -Force -ErrorAction Stop
# A CSV batch as a scheduled task runs it ([pscustomobject] casts are refused in this language mode; Import-Csv rows are not).
`$status = 'NAME', 'Ada' | ConvertFrom-Csv | Start-NenRun -WorkflowId '$script:echo' -NoProgress | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 -NoProgress
`$summary = @{
    LanguageMode = "`$(`$ExecutionContext.SessionState.LanguageMode)"
    Commands     = @((Get-Command -Module NenAi).Name | Sort-Object)
    Status       = "`$(`$status.Status)"
}
'RESULT:' + (`$summary | ConvertTo-Json -Compress)
"@
        $run.Result | Should -Not -BeNullOrEmpty -Because $run.Text
        $run.Result.LanguageMode | Should -Be 'ConstrainedLanguage'
        $run.Result.Commands | Should -Be @((Import-PowerShellDataFile (Join-Path $script:root 'NenAi.psd1')).CmdletsToExport | Sort-Object)
        $run.Result.Status | Should -Be 'success'
        # Before: "Cannot invoke method. Method invocation is supported only on core types in this language mode."
        $run.Text | Should -Not -Match 'Method invocation is supported only on core types'
    }

    It 'calls no .NET method in its loader scripts (what Constrained Language refuses)' {
        foreach ($file in 'NenAi.psm1', 'NenAi.Requirements.ps1') {
            $ast = [System.Management.Automation.Language.Parser]::ParseFile((Join-Path $script:root $file), [ref]$null, [ref]$null)
            $calls = $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.InvokeMemberExpressionAst] }, $true)
            @($calls).Count | Should -Be 0 -Because "$file should call no .NET methods ($(@($calls) -join '; '))"
        }
    }
}

Describe 'The requirement checks' {
    BeforeAll {
        . (Join-Path $script:root 'NenAi.Requirements.ps1')
    }

    It 'refuses PowerShell <Version> with one message naming 7.4' -ForEach @(
        @{ Version = '7.3.12' }, @{ Version = '7.2.24' }, @{ Version = '7.0.3' }, @{ Version = '6.2.7' }
    ) {
        $problem = Get-NenAiRequirementProblem -Edition Core -Version ([version]$Version)
        $problem | Should -Match 'needs PowerShell 7\.4 or later'
        $problem | Should -Match ([regex]::Escape("this is PowerShell $Version"))
    }

    It 'accepts PowerShell <Version>' -ForEach @(@{ Version = '7.4.0' }, @{ Version = '7.5.1' }, @{ Version = '7.6.9' }, @{ Version = '8.0.0' }) {
        Get-NenAiRequirementProblem -Edition Core -Version ([version]$Version) | Should -BeNullOrEmpty
    }

    It 'accepts the running pwsh as it reports itself' {
        Get-NenAiRequirementProblem -Edition $PSVersionTable.PSEdition -Version $PSVersionTable.PSVersion | Should -BeNullOrEmpty
    }

    It 'refuses Windows PowerShell on .NET Framework Release <Release> (<Name>) and says what to install' -ForEach @(
        @{ Release = 394802; Name = '4.6.2' }, @{ Release = 461308; Name = '4.7.1' }, @{ Release = 460798; Name = '4.7' }, @{ Release = 379893; Name = '4.5.2' }
    ) {
        $problem = Get-NenAiRequirementProblem -Edition Desktop -Version ([version]'5.1.17763.1') -NetFrameworkRelease $Release
        $problem | Should -Match 'needs \.NET Framework 4\.7\.2 or later'
        $problem | Should -Match ([regex]::Escape(".NET Framework $Name (Release $Release)"))
        $problem | Should -Match 'Install \.NET Framework 4\.8'
    }

    It 'accepts Windows PowerShell on .NET Framework Release <Release>' -ForEach @(
        @{ Release = 461808 }, @{ Release = 461814 }, @{ Release = 528040 }, @{ Release = 533320 }, @{ Release = $null }
    ) {
        Get-NenAiRequirementProblem -Edition Desktop -Version ([version]'5.1.14393.0') -NetFrameworkRelease $Release | Should -BeNullOrEmpty
    }

    It 'stops the import with the check''s message before any DLL is loaded' {
        # A copy of the laid-out module whose check refuses, as it would on PowerShell 7.3: the loader throws that
        # message and loads nothing.
        $copy = Join-Path $TestDrive 'NenAi'
        Copy-Item -Path (Join-Path $script:root 'out/NenAi') -Destination $copy -Recurse
        Set-Content -LiteralPath (Join-Path $copy 'NenAi.Requirements.ps1') -Value "function Get-NenAiRequirementProblem { 'NenAi needs PowerShell 7.4 or later; this is PowerShell 7.3.0.' }"
        $run = Invoke-FreshPwsh @"
try { Import-Module '$copy/NenAi.psd1' -ErrorAction Stop; `$err = 'imported' } catch { `$err = "`$_" }
'RESULT:' + (@{ Error = `$err; Loaded = [bool]('NenAi.Commands.StartNenRunCommand' -as [type]) } | ConvertTo-Json -Compress)
"@
        $run.Result.Error | Should -Be 'NenAi needs PowerShell 7.4 or later; this is PowerShell 7.3.0.' -Because $run.Text
        $run.Result.Loaded | Should -BeFalse
    }
}
