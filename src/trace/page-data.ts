/**
 * What the HTML page's script reads: the JSON that `htmlTimeline` embeds in the page, typed once
 * for both sides (trace/html.ts writes it, trace/page/script.ts draws it).
 */

/** One segment of a lane on the page. */
export interface PageSegment {
  readonly kind: "run" | "wait" | "ready";
  readonly start: number;
  readonly end: number;
  readonly label: string;
  readonly wokenBy: number | null;
}

/** One lane on the page: a task, or the waiter's (id 0). */
export interface PageLane {
  readonly id: number;
  readonly name: string;
  readonly parent: number | null;
  readonly created: number;
  readonly done: number | null;
  readonly outcome: string;
  readonly error: string | null;
  readonly segments: readonly PageSegment[];
}

/** The page's data. */
export interface PageData {
  readonly start: number;
  readonly end: number;
  readonly lanes: readonly PageLane[];
  readonly wakes: readonly { readonly time: number; readonly from: number | null; readonly to: number }[];
}
