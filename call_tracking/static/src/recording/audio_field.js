/** @odoo-module **/
/* The recording of a call, played in the browser: an HTML5 <audio> element
 * (its own controls are keyboard-friendly: Tab to reach them, Space to play,
 * arrows to seek) with a playback speed selector. The audio is the call's
 * attachment, served by /web/content: Odoo checks that the user may read
 * the call before sending a byte. */

import {Component, useRef, useState} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

export const PLAYBACK_RATES = [0.75, 1, 1.25, 1.5, 2];
const SEEK_SECONDS = 5;

export class CallTrackingAudioField extends Component {
  static template = "call_tracking.AudioField";
  static props = {...standardFieldProps};

  setup() {
    this.audioRef = useRef("audio");
    this.state = useState({rate: 1});
    this.rates = PLAYBACK_RATES;
  }

  get attachmentId() {
    const value = this.props.record.data[this.props.name];
    if (!value) {
      return false;
    }
    // [id, display_name] (or {id, display_name})
    return Array.isArray(value) ? value[0] : value.id;
  }

  get src() {
    return this.attachmentId ? `/web/content/${this.attachmentId}` : "";
  }

  get speedLabel() {
    return _t("Playback speed");
  }

  get playerLabel() {
    return _t("Call recording");
  }

  get downloadUrl() {
    return `${this.src}?download=true`;
  }

  setRate(rate) {
    this.state.rate = rate;
    if (this.audioRef.el) {
      this.audioRef.el.playbackRate = rate;
    }
  }

  onSpeedChange(ev) {
    this.setRate(parseFloat(ev.target.value));
  }

  /** Keys on the player: "<" and ">" change the speed, "j" and "l" seek
   * back and forward, "k" plays or pauses (as common video players). */
  onKeydown(ev) {
    const audio = this.audioRef.el;
    if (!audio || ev.target.tagName === "SELECT") {
      return;
    }
    const index = this.rates.indexOf(this.state.rate);
    switch (ev.key) {
      case ">":
        this.setRate(this.rates[Math.min(index + 1, this.rates.length - 1)]);
        break;
      case "<":
        this.setRate(this.rates[Math.max(index - 1, 0)]);
        break;
      case "j":
        audio.currentTime = Math.max(audio.currentTime - SEEK_SECONDS, 0);
        break;
      case "l":
        audio.currentTime = audio.currentTime + SEEK_SECONDS;
        break;
      case "k":
        if (audio.paused) {
          audio.play();
        } else {
          audio.pause();
        }
        break;
      default:
        return;
    }
    ev.preventDefault();
    ev.stopPropagation();
  }
}

export const callTrackingAudioField = {
  component: CallTrackingAudioField,
  displayName: _t("Call Recording Player"),
  supportedTypes: ["many2one"],
};

registry.category("fields").add("call_tracking_audio", callTrackingAudioField);
