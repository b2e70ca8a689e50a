import type { Explanation, Report, WhatIfServiceResult } from '@loopscope/core';
import type { AtRiskService } from './clusters/clusterApi';
import type { Unavailable } from './clusters/resolution';
import type { Question } from './question';

/**
 * What the bot says, independent of how it is shown: rendered as Block Kit for Slack
 * (`blockKit.ts`) and as plain text for the fallback and the console (`plainText.ts`).
 */
export type Answer = ExplanationAnswer | ChoiceAnswer | UnknownTargetAnswer | AtRiskAnswer | WhatIfAnswer | HelpAnswer | NoticeAnswer;

interface Common {
  /** Clusters that did not answer: named in the answer, which comes from the others. */
  unavailable: Unavailable[];
  /** Shown with every answer when more than one cluster is configured. */
  showCluster: boolean;
}

export interface ExplanationAnswer extends Common {
  kind: 'explanation';
  cluster: string;
  explanation: Explanation;
  /** `brief` ("is X at risk"): the verdict, where and the fixes; `full` adds the packet path and evidence. */
  detail: 'full' | 'brief';
  /** A forgiving match the bot made ("taking "payments" to mean payments/payments-api"). */
  assumed?: string;
  /** For a "why does A time out calling B" answer where A is not exposed: what to check instead. */
  checkInstead?: string[];
  dashboardUrl?: string;
  /** The same answer from a terminal. */
  cliCommand: string;
}

export interface Option {
  label: string;
  question: Question;
}

export interface ChoiceAnswer extends Common {
  kind: 'choice';
  prompt: string;
  options: Option[];
}

export interface UnknownTargetAnswer extends Common {
  kind: 'unknownTarget';
  target: string;
  message: string;
  clustersAsked: string[];
  suggestions: Option[];
}

export interface AtRiskAnswer extends Common {
  kind: 'atRisk';
  namespace?: string;
  /**
   * Per cluster: the worst few Services with their figures, how many there are in all, and the
   * dashboard filtered to them for the rest.
   */
  clusters: Array<{
    cluster: string;
    summary: Report['summary'];
    total: number;
    services: Array<AtRiskService & { dashboardUrl?: string }>;
    dashboardUrl?: string;
  }>;
}

export interface WhatIfAnswer extends Common {
  kind: 'whatIf';
  cluster: string;
  /** The change in words: "payments/payments-api used externalTrafficPolicy Cluster". */
  change: string;
  services: WhatIfServiceResult[];
  assumed?: string;
  dashboardUrl?: string;
}

export interface HelpAnswer extends Common {
  kind: 'help';
  /** The text that was not understood, when this is the reply to it. */
  notUnderstood?: string;
  hint?: string;
  clusters: string[];
}

export interface NoticeAnswer extends Common {
  kind: 'notice';
  tone: 'info' | 'warning' | 'error';
  text: string;
  /** Already Slack markup (channel links), used as is in blocks. */
  slackText?: string;
}
